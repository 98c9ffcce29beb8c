"""Key populations under routine testing: groups, employers, members, due dates."""
