// Tests for SDP live beside this file.
