/* WASI benchmark: writes 200 MB to standard output in 4 KiB writes (51,200 calls of
 * write(2) through wasi-libc's fd_write). Exits 1 on any error. */
#include <string.h>
#include <unistd.h>

int main(void) {
    static char buf[4096];
    memset(buf, 'x', sizeof buf);
    buf[sizeof buf - 1] = '\n';
    for (int i = 0; i < 200 * 1024 * 1024 / 4096; i++) {
        for (size_t done = 0; done < sizeof buf;) {
            ssize_t n = write(1, buf + done, sizeof buf - done);
            if (n <= 0) return 1;
            done += n;
        }
    }
    return 0;
}
