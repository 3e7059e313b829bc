"""What crosses the edge <-> API boundary: the versioned messages and their vocabulary.

Pydantic and the standard library only (no numpy, no OpenCV, no web or MQTT library), so
the edge, the API and any third-party consumer can depend on it alone:

* `hazards`: the hazard catalogue (type, level, names, default level, cited standards);
* `events`: the hazard event (start / update / end), schema v1;
* `zones`: camera zones drawn at commissioning;
* `camera`: camera status and heartbeat (stats) messages;
* `topics`: the MQTT topic layout.
"""
