"""Transfer service: the transfer case, its 8-step approval chain and every SLA deadline."""
