// The organizer daemon (issue 4): HTTP API, agent WebSocket hub, scheduler, orchestration.
import EarshotWire
