// Tests for Pcap live beside this file.
