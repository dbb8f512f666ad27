"""The rewards engine's rules, free of I/O: calendar buckets, incentive terms, referral refusals
and the SQL that turns activities into awards."""
