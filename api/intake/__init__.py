"""Messages in from the edge: hazard events and camera status over MQTT (or HTTP), stored
once each, grouped into hazards; what cannot be used becomes a dead letter."""
