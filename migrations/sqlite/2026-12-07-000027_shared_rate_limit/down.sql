DROP TABLE lever_rate_buckets;
