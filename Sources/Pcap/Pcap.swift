// The Pcap module. See DESIGN §1: a pure target — no I/O, no clock; time and randomness are arguments.
