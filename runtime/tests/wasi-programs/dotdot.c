/* `..` and absolute paths: every path call with a path that climbs above its directory
 * or starts at `/` (including the host's real path of the sandbox, argv[1]) is PERM.
 * Preopens: box::/ (fd 3). */
#include "check.h"

static char buf[1024];

static const char *join(const char *a, const char *b) {
    size_t n = strlen(a);
    memcpy(buf, a, n);
    strcpy(buf + n, b);
    return buf;
}

static void escape(const char *label, const char *path) {
    CHECK(label, open_read(3, FOLLOW, P(path)), E_PERM);
    CHECK("  nofollow open", open_read(3, 0, P(path)), E_PERM);
    CHECK("  stat", stat_(3, FOLLOW, P(path)), E_PERM);
    CHECK("  lstat", stat_(3, 0, P(path)), E_PERM);
    CHECK("  set times", raw_path_filestat_set_times(3, FOLLOW, P(path), 0, 0, 10), E_PERM);
    CHECK("  open dir", open_flags(3, 0, P(path), O_DIRECTORY_, RIGHTS_DIR), E_PERM);
    CHECK("  readlink", readlink_(3, P(path)), E_PERM);
}

int main(int argc, char **argv) {
    const char *host = init(argc, argv);
    const char *escapes[] = {
        "..", "../", "../.", "../secret.txt", "sub/../../secret.txt",
        "sub/./../../box/../secret.txt", "../outside/secret2.txt", "../box/file.txt",
        "sub/../sub/../..", "../../../../../../../../etc/passwd", "/", "/secret.txt",
        "/etc/passwd", "//etc/passwd", "/box/file.txt",
    };
    for (size_t i = 0; i < sizeof escapes / sizeof *escapes; i++)
        escape(escapes[i], escapes[i]);
    /* The host path of the secret next to the sandbox, and of a file in it. */
    escape("HOST/secret.txt", join(host, "/secret.txt"));
    escape("HOST/box/file.txt", join(host, "/box/file.txt"));

    CHECK("create ../new.txt", open_flags(3, 0, P("../new.txt"), O_CREAT_, RIGHTS_ALL), E_PERM);
    CHECK("create /new.txt", open_flags(3, 0, P("/new.txt"), O_CREAT_, RIGHTS_ALL), E_PERM);
    CHECK("truncate ../secret.txt",
          open_flags(3, 0, P("../secret.txt"), O_TRUNC_, RIGHTS_ALL), E_PERM);
    CHECK("mkdir ../made", raw_path_create_directory(3, P("../made")), E_PERM);
    CHECK("mkdir sub/../../made", raw_path_create_directory(3, P("sub/../../made")), E_PERM);
    CHECK("mkdir /made", raw_path_create_directory(3, P("/made")), E_PERM);
    CHECK("unlink ../secret.txt", raw_path_unlink_file(3, P("../secret.txt")), E_PERM);
    CHECK("unlink /secret.txt", raw_path_unlink_file(3, P("/secret.txt")), E_PERM);
    CHECK("rmdir ../outside", raw_path_remove_directory(3, P("../outside")), E_PERM);
    CHECK("rmdir ..", raw_path_remove_directory(3, P("..")), E_PERM);
    CHECK("rmdir ../box", raw_path_remove_directory(3, P("../box")), E_PERM);

    /* `..` that stays inside is fine. */
    CHECK("sub/../file.txt", open_read(3, 0, P("sub/../file.txt")), E_SUCCESS);
    CHECK("./sub/./inner.txt", open_read(3, 0, P("./sub/./inner.txt")), E_SUCCESS);
    CHECK("stat .", stat_(3, 0, P(".")), E_SUCCESS);
    CHECK("stat sub/..", stat_(3, 0, P("sub/..")), E_SUCCESS);

    /* A directory descriptor is a sandbox of its own: `..` cannot leave it either. */
    int32_t sub = open_dir(3, "sub");
    CHECK("open sub", sub < 0 ? -sub : 0, E_SUCCESS);
    CHECK("sub: inner.txt", open_read(sub, 0, P("inner.txt")), E_SUCCESS);
    CHECK("sub: ../file.txt", open_read(sub, 0, P("../file.txt")), E_PERM);
    CHECK("sub: ..", stat_(sub, 0, P("..")), E_PERM);
    CHECK("sub: ../../secret.txt", open_read(sub, 0, P("../../secret.txt")), E_PERM);
    CHECK("sub: mkdir ../x", raw_path_create_directory(sub, P("../x")), E_PERM);
    return finish();
}
