/// SIP transports, transaction driver and user agent on SwiftNIO.
public enum SIPStackModule {}
