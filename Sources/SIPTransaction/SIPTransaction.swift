/// RFC 3261 §17 transactions, §12 dialogs and RFC 4028 session timers as pure state machines.
public enum SIPTransactionModule {}
