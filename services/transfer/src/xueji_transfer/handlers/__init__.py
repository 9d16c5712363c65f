"""One module per consumed topic: transfer.decision.v1 and interprovince.transfer.v1."""
