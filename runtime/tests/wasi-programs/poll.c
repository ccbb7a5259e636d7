/* poll_oneoff on standard input with a 200 ms clock beside it. argv[1] says what the
 * harness made of stdin: "empty" (a pipe nobody writes: only the clock may fire, after
 * 200 ms), "data" (a pipe holding "x": stdin is ready, the clock is not due) or "closed"
 * (a pipe whose writer is gone: stdin is ready, at end of file). No preopens. */
#include "check.h"

struct sub {
    uint64_t userdata;
    uint8_t tag;
    uint8_t pad[7];
    union {
        struct { uint32_t id; uint32_t pad; uint64_t timeout, precision; uint16_t flags; } clock;
        struct { uint32_t fd; } fd;
    } u;
};

struct event {
    uint64_t userdata;
    uint16_t error;
    uint8_t type;
    uint8_t pad[5];
    uint64_t nbytes;
    uint16_t flags;
    uint8_t pad2[6];
};

_Static_assert(sizeof(struct sub) == 48, "subscription layout");
_Static_assert(sizeof(struct event) == 32, "event layout");

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "empty";
    struct sub subs[2];
    memset(subs, 0, sizeof subs);
    subs[0].userdata = 1;
    subs[0].tag = 1; /* fd_read */
    subs[0].u.fd.fd = 0;
    subs[1].userdata = 2;
    subs[1].tag = 0; /* clock */
    subs[1].u.clock.id = 1; /* monotonic */
    subs[1].u.clock.timeout = 200000000ull;
    struct event events[2];
    memset(events, 0, sizeof events);
    uint64_t t0 = 0, t1 = 0;
    size_t n = 0;
    raw_clock_time_get(1, 1, &t0);
    CHECK("poll_oneoff", raw_poll_oneoff(subs, events, 2, &n), E_SUCCESS);
    raw_clock_time_get(1, 1, &t1);
    uint64_t ms = (t1 - t0) / 1000000;
    int stdin_ready = 0, clock_fired = 0;
    for (size_t i = 0; i < n && i < 2; i++) {
        if (events[i].userdata == 1 && events[i].type == 1 && events[i].error == 0)
            stdin_ready = 1;
        if (events[i].userdata == 2 && events[i].type == 0 && events[i].error == 0)
            clock_fired = 1;
    }
    if (strcmp(mode, "empty") == 0) {
        CHECK("one event", (int)n, 1);
        CHECK("the clock fired", clock_fired, 1);
        CHECK("stdin was not ready", stdin_ready, 0);
        CHECK("after 200 ms or more", ms >= 200, 1);
    } else {
        CHECK("stdin was ready", stdin_ready, 1);
        CHECK("the clock did not fire", clock_fired, 0);
        char buf[8];
        struct { char *p; size_t n; } iov = {buf, sizeof buf};
        size_t got = 99;
        CHECK("read stdin", raw_fd_read(0, &iov, 1, &got), E_SUCCESS);
        CHECK("bytes read", (int)got, strcmp(mode, "data") == 0 ? 1 : 0);
    }
    return finish();
}
