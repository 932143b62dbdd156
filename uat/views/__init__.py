"""The tester pages: the inbox, executing a case, evidence, defects and retests."""
