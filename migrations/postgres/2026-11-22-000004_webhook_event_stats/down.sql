DROP TABLE webhook_event_stats;
