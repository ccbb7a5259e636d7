/* WASI benchmark: creates 10,000 small files in /files (a preopened scratch directory),
 * reads each back and checks it, then deletes them all, through wasi-libc's POSIX calls
 * (open/write/read/close/unlink), as ordinary programs do. Exits 1 on any error. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FILES 10000

static void name(char *buf, int i) { snprintf(buf, 32, "/files/f%05d.txt", i); }

int main(void) {
    char path[32], text[64], back[64];
    for (int i = 0; i < FILES; i++) {
        name(path, i);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int n = snprintf(text, sizeof text, "file %d of the WASI benchmark\n", i);
        if (fd < 0 || write(fd, text, n) != n || close(fd) != 0) return 1;
    }
    for (int i = 0; i < FILES; i++) {
        name(path, i);
        int fd = open(path, O_RDONLY);
        int n = snprintf(text, sizeof text, "file %d of the WASI benchmark\n", i);
        if (fd < 0 || read(fd, back, sizeof back) != n || close(fd) != 0) return 1;
        if (memcmp(text, back, n) != 0) return 1;
    }
    for (int i = 0; i < FILES; i++) {
        name(path, i);
        if (unlink(path) != 0) return 1;
    }
    puts("10000 files created, read and deleted");
    return 0;
}
