// Tests for SIPCore live beside this file.
