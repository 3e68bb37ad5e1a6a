// CEarshotNet: the few Linux socket calls the media engine needs and NIO does not expose —
// DSCP marking and reading (IP_TOS / IP_RECVTOS, IPV6_TCLASS / IPV6_RECVTCLASS), batched
// receive with the TOS octet per datagram (recvmmsg + cmsg), epoll, timerfd with absolute
// CLOCK_MONOTONIC deadlines, eventfd, and clock helpers. Every function returns a negative
// errno on failure and never writes past the lengths it is given.
#ifndef CEARSHOTNET_H
#define CEARSHOTNET_H

#include <stddef.h>
#include <stdint.h>

/// An IPv4 or IPv6 address and a UDP port, in a form Swift can compare and copy.
typedef struct {
    /// 4 or 6; 0 for none.
    uint8_t family;
    uint8_t reserved;
    /// Host byte order.
    uint16_t port;
    /// IPv6 scope (interface index); 0 for IPv4.
    uint32_t scope_id;
    /// IPv4 in the first four octets; an IPv4-mapped IPv6 source is reported as IPv4.
    uint8_t address[16];
} earshot_endpoint;

/// One datagram of a batch.
typedef struct {
    earshot_endpoint source;
    /// Octets stored in this datagram's buffer (at most the buffer size).
    uint32_t length;
    /// 1 when the datagram was longer than the buffer and was cut (MSG_TRUNC).
    uint8_t truncated;
    /// 1 when the kernel delivered the TOS / traffic-class octet.
    uint8_t has_tos;
    /// IPv4 TOS or IPv6 traffic class: DSCP in the high six bits, ECN in the low two.
    uint8_t tos;
    /// 1 when the kernel stamped the datagram's arrival (SO_TIMESTAMPNS).
    uint8_t has_timestamp;
    /// The kernel's arrival time of the datagram, CLOCK_REALTIME, nanoseconds since 1970: the
    /// same moment a capture (tshark) records, free of the receiving thread's wake-up delay.
    int64_t timestamp_ns;
} earshot_datagram;

/// The most datagrams one `earshot_udp_receive_batch` call returns.
#define EARSHOT_MAX_BATCH 64

/// Parses a numeric IPv4 or IPv6 address (no name lookup); 0 or -EINVAL.
int earshot_endpoint_parse(const char *text, uint16_t port, earshot_endpoint *out);
/// Writes the address (without port) as text, NUL-terminated; its length or -ENOSPC / -EINVAL.
int earshot_endpoint_format(const earshot_endpoint *endpoint, char *buffer, size_t size);

/// A non-blocking, close-on-exec UDP socket bound to `local`, sending with TOS / traffic class
/// `dscp << 2` and receiving the TOS octet of every datagram. An IPv6 socket bound to the
/// unspecified address also serves IPv4 (v4-mapped). Returns the descriptor or -errno.
int earshot_udp_open(const earshot_endpoint *local, int dscp);
/// The address and port the socket is bound to; 0 or -errno.
int earshot_udp_local_endpoint(int fd, earshot_endpoint *out);
/// Receives up to `count` (≤ EARSHOT_MAX_BATCH) datagrams without blocking into `buffers`,
/// `buffer_size` octets apart. Returns how many arrived (0 when none was waiting) or -errno.
int earshot_udp_receive_batch(int fd, uint8_t *buffers, size_t buffer_size, earshot_datagram *datagrams,
                              unsigned count);
/// Sends one datagram; `family` is the socket's (4 or 6), so that an IPv4 destination can be
/// mapped on an IPv6 socket. Returns the octets sent or -errno.
long earshot_udp_send(int fd, int family, const uint8_t *data, size_t length, const earshot_endpoint *to);
int earshot_close(int fd);

/// An epoll instance (close-on-exec); descriptor or -errno.
int earshot_epoll_create(void);
/// Watches `fd` for input, level-triggered, reporting `token`; 0 or -errno.
int earshot_epoll_add(int epfd, int fd, uint64_t token);
int earshot_epoll_remove(int epfd, int fd);

typedef struct {
    uint64_t token;
    uint32_t events;
    uint32_t reserved;
} earshot_event;

/// Waits for up to `max` events (timeout in ms, -1 for none); their count, 0 on EINTR, or -errno.
int earshot_epoll_wait(int epfd, earshot_event *events, int max, int timeout_ms);

/// A non-blocking CLOCK_MONOTONIC timerfd; descriptor or -errno.
int earshot_timer_create(void);
/// Arms the timer to fire once at `deadline_ns` on CLOCK_MONOTONIC (TFD_TIMER_ABSTIME); a
/// deadline in the past fires at once. A negative deadline disarms it. 0 or -errno.
int earshot_timer_arm(int tfd, int64_t deadline_ns);
/// Reads (and so clears) the expiration count; 0 when it had not expired.
int64_t earshot_timer_drain(int tfd);

/// A non-blocking eventfd; descriptor or -errno.
int earshot_event_create(void);
int earshot_event_signal(int efd);
void earshot_event_drain(int efd);

/// CLOCK_MONOTONIC in nanoseconds.
int64_t earshot_monotonic_ns(void);
/// The source address the kernel's routing picks toward the numeric address `host` (a UDP socket
/// is connected, which sends nothing, and asked for its name). Writes it NUL-terminated into
/// `out`; 0, or -EINVAL for a host that is not an IP literal, or -errno.
int earshot_route_source(const char *host, char *out, size_t size);
/// CLOCK_MONOTONIC minus CLOCK_REALTIME, nanoseconds, read back to back (the smaller of three
/// tries' brackets): converts kernel receive timestamps into the monotonic clock.
int64_t earshot_monotonic_minus_realtime_ns(void);
/// CLOCK_REALTIME as seconds and nanoseconds since the Unix epoch.
void earshot_realtime(int64_t *seconds, uint32_t *nanoseconds);
/// Sets the calling thread's timer slack (PR_SET_TIMERSLACK; the default is 50 µs, which
/// the kernel may add to every timer expiry); 0 or -errno.
int earshot_thread_set_timer_slack(unsigned long nanoseconds);
/// Puts the calling thread in SCHED_FIFO at `priority` (1–99); needs CAP_SYS_NICE. 0 or -errno.
int earshot_thread_set_realtime(int priority);
/// Names the calling thread (at most 15 characters are kept).
void earshot_thread_set_name(const char *name);
/// CPU time consumed by the calling thread, nanoseconds.
int64_t earshot_thread_cpu_ns(void);

#endif
