"""What the registry feeds to others in each commit: the identity feed of dedupe's index (`identity`), the public
status feed (`status`, R52), and who receives the public feed, for the audit (`recipients`, R51)."""
