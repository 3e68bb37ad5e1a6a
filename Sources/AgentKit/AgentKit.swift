// The agent daemon (issue 4): organizer connection, assignments, result spool.
import EarshotWire
