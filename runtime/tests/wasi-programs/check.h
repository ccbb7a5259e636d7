/* Shared by the WASI attack programs: raw preview1 imports that take (pointer, length)
 * paths, so a program can pass exactly the bytes it wants (NUL bytes, invalid UTF-8, no
 * libc path handling in between), and the checks.
 *
 * A program calls CHECK(label, call, expected errno) for every attempt (DIFF where our
 * answer is Linux's and Wasmtime's differs). Each line of
 * output is "ok LABEL" or "FAIL LABEL: got N, want M"; anything read through an attempt
 * that should have failed is printed too ("read: ..."), so the harness can see a leaked
 * secret. The exit status is the number of failed checks (0: all as expected). */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WASI(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))

WASI(path_open)
int32_t raw_path_open(int32_t fd, int32_t dirflags, const char *path, size_t len,
                      int32_t oflags, int64_t base, int64_t inheriting, int32_t fdflags,
                      int32_t *out);
WASI(path_filestat_get)
int32_t raw_path_filestat_get(int32_t fd, int32_t flags, const char *path, size_t len,
                              void *out);
WASI(path_filestat_set_times)
int32_t raw_path_filestat_set_times(int32_t fd, int32_t flags, const char *path,
                                    size_t len, int64_t atim, int64_t mtim,
                                    int32_t fst_flags);
WASI(path_create_directory)
int32_t raw_path_create_directory(int32_t fd, const char *path, size_t len);
WASI(path_remove_directory)
int32_t raw_path_remove_directory(int32_t fd, const char *path, size_t len);
WASI(path_unlink_file)
int32_t raw_path_unlink_file(int32_t fd, const char *path, size_t len);
WASI(path_readlink)
int32_t raw_path_readlink(int32_t fd, const char *path, size_t len, char *buf,
                          size_t buf_len, size_t *out);
WASI(path_rename)
int32_t raw_path_rename(int32_t fd, const char *old, size_t old_len, int32_t new_fd,
                        const char *new_path, size_t new_len);
WASI(path_link)
int32_t raw_path_link(int32_t fd, int32_t flags, const char *old, size_t old_len,
                      int32_t new_fd, const char *new_path, size_t new_len);
WASI(path_symlink)
int32_t raw_path_symlink(const char *target, size_t target_len, int32_t fd,
                         const char *path, size_t len);
WASI(fd_read)
int32_t raw_fd_read(int32_t fd, const void *iovs, size_t count, size_t *out);
WASI(fd_write)
int32_t raw_fd_write(int32_t fd, const void *iovs, size_t count, size_t *out);
WASI(fd_close)
int32_t raw_fd_close(int32_t fd);
WASI(fd_renumber)
int32_t raw_fd_renumber(int32_t fd, int32_t to);
WASI(fd_readdir)
int32_t raw_fd_readdir(int32_t fd, void *buf, size_t len, int64_t cookie, size_t *out);
WASI(fd_prestat_get)
int32_t raw_fd_prestat_get(int32_t fd, void *out);
WASI(fd_prestat_dir_name)
int32_t raw_fd_prestat_dir_name(int32_t fd, char *buf, size_t len);
WASI(fd_fdstat_get)
int32_t raw_fd_fdstat_get(int32_t fd, void *out);
WASI(fd_filestat_get)
int32_t raw_fd_filestat_get(int32_t fd, void *out);
WASI(poll_oneoff)
int32_t raw_poll_oneoff(const void *subs, void *events, size_t n, size_t *out);
WASI(clock_time_get)
int32_t raw_clock_time_get(int32_t id, int64_t precision, uint64_t *out);

/* WASI errnos (preview1 numbering). */
enum {
    E_SUCCESS = 0, E_ACCES = 2, E_BADF = 8, E_EXIST = 20, E_ILSEQ = 25, E_INVAL = 28,
    E_ISDIR = 31, E_LOOP = 32, E_NAMETOOLONG = 37, E_NOENT = 44, E_NOTDIR = 54,
    E_NOTEMPTY = 55, E_NOTSUP = 58, E_PERM = 63, E_XDEV = 75, E_NOTCAPABLE = 76,
};

#define RIGHTS_ALL ((int64_t)((1u << 30) - 1))
#define RIGHT_FD_READ ((int64_t)1 << 1)
#define RIGHT_FD_WRITE ((int64_t)1 << 6)
/* Directories cannot be opened for writing (ISDIR), so they get everything else. */
#define RIGHTS_DIR (RIGHTS_ALL & ~RIGHT_FD_WRITE)
#define FOLLOW 1
#define O_CREAT_ 1
#define O_DIRECTORY_ 2
#define O_EXCL_ 4
#define O_TRUNC_ 8

/* A path as (pointer, length) from a C string. */
#define P(s) (s), strlen(s)

static int failures;
/* Set when the harness runs the program under a peer runtime (Wasmtime): its last
 * argument is then "peer". */
static int under_peer;

static inline void out(const char *s, size_t n) {
    struct { const char *p; size_t n; } iov = {s, n};
    size_t done;
    raw_fd_write(1, &iov, 1, &done);
}

static inline void puts_(const char *s) { out(s, strlen(s)); }

static inline void put_num(long long v) {
    char b[24];
    int i = sizeof b;
    int neg = v < 0;
    unsigned long long u = neg ? -(unsigned long long)v : (unsigned long long)v;
    do { b[--i] = '0' + u % 10; u /= 10; } while (u);
    if (neg) b[--i] = '-';
    out(b + i, sizeof b - i);
}

/* Prints bytes that were read (or a link target, a listing) where the harness sees it. */
static inline void show(const char *what, const char *buf, size_t n) {
    puts_(what);
    puts_(": ");
    out(buf, n);
    puts_("\n");
}

static inline void check(const char *label, int got, int want) {
    if (got == want) {
        puts_("ok ");
        puts_(label);
        puts_("\n");
        return;
    }
    failures++;
    puts_("FAIL ");
    puts_(label);
    puts_(": got ");
    put_num(got);
    puts_(", want ");
    put_num(want);
    puts_("\n");
}

#define CHECK(label, call, want) check(label, (call), (want))

/* A call where we give Linux's answer and Wasmtime another (each such case is listed in
 * ARCHITECTURE.md): `ours` is checked when we run, `wasmtime` under the peer. */
#define DIFF(label, call, ours, wasmtime) check(label, (call), under_peer ? (wasmtime) : (ours))

/* Reads the harness's arguments: argv[1] is the host directory around the sandboxes (a
 * path to try), a last argument "peer" sets `under_peer`. */
static inline const char *init(int argc, char **argv) {
    under_peer = argc > 2 && strcmp(argv[argc - 1], "peer") == 0;
    return argc > 1 ? argv[1] : "/tmp";
}

/* Reads what `fd` holds (up to 256 bytes) and shows it; closes it. */
static inline void dump_fd(const char *label, int32_t fd) {
    char buf[256];
    struct { char *p; size_t n; } iov = {buf, sizeof buf};
    size_t n = 0;
    if (raw_fd_read(fd, &iov, 1, &n) == 0) show(label, buf, n);
    raw_fd_close(fd);
}

/* path_open, read-only, of `path` below `dir`; anything it opens is read and shown. */
static inline int open_read(int32_t dir, int32_t lookup, const char *path, size_t len) {
    int32_t fd = -1;
    int e = raw_path_open(dir, lookup, path, len, 0, RIGHTS_ALL, RIGHTS_ALL, 0, &fd);
    if (e == 0) dump_fd("read", fd);
    return e;
}

/* path_open with `oflags` (creating, truncating); the fd is closed again. */
static inline int open_flags(int32_t dir, int32_t lookup, const char *path, size_t len,
                      int32_t oflags, int64_t rights) {
    int32_t fd = -1;
    int e = raw_path_open(dir, lookup, path, len, oflags, rights, rights, 0, &fd);
    if (e == 0) raw_fd_close(fd);
    return e;
}

/* path_open of a directory; returns its fd or -errno. */
static inline int32_t open_dir(int32_t dir, const char *path) {
    int32_t fd = -1;
    int e = raw_path_open(dir, 0, P(path), O_DIRECTORY_, RIGHTS_DIR, RIGHTS_ALL, 0, &fd);
    return e ? -e : fd;
}

static inline int stat_(int32_t dir, int32_t lookup, const char *path, size_t len) {
    uint64_t st[8];
    return raw_path_filestat_get(dir, lookup, path, len, st);
}

/* path_readlink; a target it returns is shown. */
static inline int readlink_(int32_t dir, const char *path, size_t len) {
    char buf[512];
    size_t n = 0;
    int e = raw_path_readlink(dir, path, len, buf, sizeof buf, &n);
    if (e == 0) show("readlink", buf, n);
    return e;
}

/* Writes `text` into a new file `path` below `dir`. */
static inline int write_file(int32_t dir, const char *path, const char *text) {
    int32_t fd = -1;
    int e = raw_path_open(dir, 0, P(path), O_CREAT_ | O_TRUNC_, RIGHTS_ALL, RIGHTS_ALL, 0, &fd);
    if (e) return e;
    struct { const char *p; size_t n; } iov = {text, strlen(text)};
    size_t n;
    e = raw_fd_write(fd, &iov, 1, &n);
    raw_fd_close(fd);
    return e;
}

/* Shows the names fd_readdir lists for `fd`. */
static inline int list_dir(int32_t fd) {
    char buf[4096];
    size_t n = 0;
    int e = raw_fd_readdir(fd, buf, sizeof buf, 0, &n);
    if (e) return e;
    puts_("listing:");
    for (size_t at = 0; at + 24 <= n;) {
        uint32_t len;
        memcpy(&len, buf + at + 16, 4);
        if (at + 24 + len > n) break;
        puts_(" ");
        out(buf + at + 24, len);
        at += 24 + len;
    }
    puts_("\n");
    return 0;
}

static inline int finish(void) {
    puts_(failures ? "some checks failed\n" : "all checks passed\n");
    return failures;
}
