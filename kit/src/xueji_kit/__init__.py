"""Service plumbing shared by every xueji service; domain rules never live here."""
