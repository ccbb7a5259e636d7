/* Descriptors that are not what they claim: numbers never opened, closed preopens, a
 * preopen's number taken over by fd_renumber, files and stdio where a directory is due.
 * Preopens: box::/ (fd 3), box2::/b (fd 4). */
#include "check.h"

static int is_preopen(int32_t fd) {
    uint32_t pre[2];
    return raw_fd_prestat_get(fd, pre);
}

static int read_n(int32_t fd) {
    char buf[16];
    struct { char *p; size_t n; } iov = {buf, sizeof buf};
    size_t n = 0;
    int e = raw_fd_read(fd, &iov, 1, &n);
    if (e == 0) show("read", buf, n);
    return e;
}

int main(int argc, char **argv) {
    init(argc, argv);
    /* Numbers never opened. */
    const int32_t never[] = {5, 99, 0x7fffffff, -1};
    for (size_t i = 0; i < sizeof never / sizeof *never; i++) {
        int32_t fd = never[i];
        CHECK("never opened: path_open", open_read(fd, 0, P("file.txt")), E_BADF);
        CHECK("  stat", stat_(fd, 0, P("file.txt")), E_BADF);
        CHECK("  mkdir", raw_path_create_directory(fd, P("x")), E_BADF);
        CHECK("  unlink", raw_path_unlink_file(fd, P("file.txt")), E_BADF);
        CHECK("  rename from", raw_path_rename(fd, P("file.txt"), 3, P("x")), E_BADF);
        CHECK("  rename to", raw_path_rename(3, P("file.txt"), fd, P("x")), E_BADF);
        CHECK("  link to", raw_path_link(3, 0, P("file.txt"), fd, P("x")), E_BADF);
        CHECK("  symlink", raw_path_symlink(P("x"), fd, P("x")), E_BADF);
        CHECK("  read", read_n(fd), E_BADF);
        CHECK("  close", raw_fd_close(fd), E_BADF);
        CHECK("  prestat", is_preopen(fd), E_BADF);
        CHECK("  renumber from", raw_fd_renumber(fd, 3), E_BADF);
        CHECK("  renumber onto", raw_fd_renumber(3, fd), E_BADF);
    }
    CHECK("fd 3 still a preopen", is_preopen(3), E_SUCCESS);

    /* Standard streams and files are not directories. */
    CHECK("path_open on stdin", open_read(0, 0, P("file.txt")), E_BADF);
    CHECK("path_open on stdout", open_read(1, 0, P("../secret.txt")), E_BADF);
    CHECK("mkdir on stderr", raw_path_create_directory(2, P("x")), E_BADF);
    int32_t file = -1;
    CHECK("open file.txt", raw_path_open(3, 0, P("file.txt"), 0, RIGHTS_ALL, RIGHTS_ALL, 0, &file),
          E_SUCCESS);
    CHECK("path_open on a file", open_read(file, 0, P("../secret.txt")), E_NOTDIR);
    CHECK("path_open on a file, inside", open_read(file, 0, P("x")), E_NOTDIR);
    /* (Only path_open says NOTDIR; the other path calls say BADF, as in Wasmtime.) */
    CHECK("stat on a file", stat_(file, 0, P("..")), E_BADF);
    CHECK("mkdir on a file", raw_path_create_directory(file, P("x")), E_BADF);
    CHECK("unlink on a file", raw_path_unlink_file(file, P("../secret.txt")), E_BADF);
    CHECK("prestat of a file", is_preopen(file), E_BADF);

    /* A closed preopen is gone: its number is BADF until reused. */
    CHECK("close /b", raw_fd_close(4), E_SUCCESS);
    CHECK("closed: path_open", open_read(4, 0, P("x")), E_BADF);
    CHECK("closed: create", open_flags(4, 0, P("x"), O_CREAT_, RIGHTS_ALL), E_BADF);
    CHECK("closed: prestat", is_preopen(4), E_BADF);
    CHECK("closed: close again", raw_fd_close(4), E_BADF);
    CHECK("closed: renumber onto", raw_fd_renumber(file, 4), E_BADF);
    /* The number is reused for the next descriptor, which is no preopen. */
    int32_t reused = -1;
    CHECK("open sub/inner.txt", raw_path_open(3, 0, P("sub/inner.txt"), 0, RIGHTS_ALL, RIGHTS_ALL,
                                              0, &reused), E_SUCCESS);
    CHECK("reused number is 4", reused == 4 ? 0 : -1, E_SUCCESS);
    CHECK("reused: prestat", is_preopen(4), E_BADF);
    CHECK("reused: path_open", open_read(4, 0, P("x")), E_NOTDIR);

    /* fd_renumber onto a preopen replaces it: fd 3 becomes the file. */
    CHECK("renumber file onto 3", raw_fd_renumber(file, 3), E_SUCCESS);
    CHECK("old number closed", read_n(file), E_BADF);
    CHECK("3: prestat", is_preopen(3), E_BADF);
    CHECK("3: path_open", open_read(3, 0, P("file.txt")), E_NOTDIR);
    CHECK("3: path_open up", open_read(3, 0, P("../secret.txt")), E_NOTDIR);
    CHECK("3: read", read_n(3), E_SUCCESS);
    /* A directory renumbered onto stdin: still a sandbox of its own. */
    int32_t sub = -1;
    CHECK("renumber 4 onto 0", raw_fd_renumber(4, 0), E_SUCCESS);
    CHECK("0: read inner", read_n(0), E_SUCCESS);
    CHECK("0: renumber onto itself", raw_fd_renumber(0, 0), E_SUCCESS);
    CHECK("no preopen is left", is_preopen(3) && is_preopen(4) ? 0 : -1, E_SUCCESS);
    CHECK("nothing opens any more",
          raw_path_open(3, 0, P("sub"), O_DIRECTORY_, RIGHTS_DIR, RIGHTS_ALL, 0, &sub), E_NOTDIR);
    return finish();
}
