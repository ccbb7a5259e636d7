/* Nested and overlapping preopens: /x is the host's outer, /y is outer/inner (inside /x),
 * /z is outer again (the same directory twice). Through /x the guest renames inner away
 * and puts a link `inner -> ..` in its place; through /y it then tries to reach outer's
 * parent (the host directory above every preopen) and the host's /etc/passwd.
 * Preopens: outer::/x (fd 3), outer/inner::/y (fd 4), outer::/z (fd 5). */
#include "check.h"

static int prestat_name(int32_t fd, const char *want) {
    char name[64];
    uint32_t pre[2];
    int e = raw_fd_prestat_get(fd, pre);
    if (e) return e;
    if (pre[1] >= sizeof name) return -1;
    e = raw_fd_prestat_dir_name(fd, name, pre[1]);
    if (e) return e;
    return pre[1] == strlen(want) && memcmp(name, want, pre[1]) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
    init(argc, argv);
    CHECK("prestat 3 is /x", prestat_name(3, "/x"), E_SUCCESS);
    CHECK("prestat 4 is /y", prestat_name(4, "/y"), E_SUCCESS);
    CHECK("prestat 5 is /z", prestat_name(5, "/z"), E_SUCCESS);

    /* The swap, through the outer preopen. */
    CHECK("rename /x/inner", raw_path_rename(3, P("inner"), 3, P("moved")), E_SUCCESS);
    CHECK("link /x/inner -> ..", raw_path_symlink(P(".."), 3, P("inner")), E_SUCCESS);

    /* /y still is the directory it was preopened as (now /x/moved)... */
    CHECK("/y: in.txt", open_read(4, 0, P("in.txt")), E_SUCCESS);
    CHECK("/y: write", write_file(4, "from_y.txt", "y\n"), E_SUCCESS);
    CHECK("/x: moved/from_y.txt", stat_(3, 0, P("moved/from_y.txt")), E_SUCCESS);
    /* ...and nothing above it is reachable, not even the rest of /x. */
    const char *up[] = {
        "..", "../o.txt", "../secret.txt", "../../secret.txt", "../../outside/secret2.txt",
        "../../../../../../etc/passwd", "../inner/secret.txt", "../moved/in.txt",
    };
    for (size_t i = 0; i < sizeof up / sizeof *up; i++) {
        CHECK(up[i], open_read(4, FOLLOW, P(up[i])), E_PERM);
        CHECK("  stat", stat_(4, FOLLOW, P(up[i])), E_PERM);
    }
    CHECK("/y: create ../made.txt",
          open_flags(4, 0, P("../made.txt"), O_CREAT_, RIGHTS_ALL), E_PERM);
    CHECK("/y: create ../../made.txt",
          open_flags(4, 0, P("../../made.txt"), O_CREAT_, RIGHTS_ALL), E_PERM);
    CHECK("/y: mkdir ../../newdir", raw_path_create_directory(4, P("../../newdir")), E_PERM);
    CHECK("/y: unlink ../../secret.txt", raw_path_unlink_file(4, P("../../secret.txt")), E_PERM);
    CHECK("/y: unlink ../o.txt", raw_path_unlink_file(4, P("../o.txt")), E_PERM);
    CHECK("/y: rmdir ../../outside", raw_path_remove_directory(4, P("../../outside")), E_PERM);
    CHECK("/y: rename ../../secret.txt",
          raw_path_rename(4, P("../../secret.txt"), 4, P("stolen")), E_PERM);

    /* Through /x, the planted link leads above /x. */
    CHECK("/x: inner/secret.txt", open_read(3, FOLLOW, P("inner/secret.txt")), E_PERM);
    CHECK("/x: inner/outer/o.txt", open_read(3, FOLLOW, P("inner/outer/o.txt")), E_PERM);
    CHECK("/x: create inner/made.txt",
          open_flags(3, 0, P("inner/made.txt"), O_CREAT_, RIGHTS_ALL), E_PERM);
    CHECK("/x: unlink inner/secret.txt", raw_path_unlink_file(3, P("inner/secret.txt")), E_PERM);
    CHECK("/x: open dir inner", open_flags(3, FOLLOW, P("inner"), O_DIRECTORY_, RIGHTS_DIR),
          E_PERM);

    /* The same directory twice: /x and /z see the same files, and neither has a way up. */
    CHECK("/z: write both.txt", write_file(5, "both.txt", "both\n"), E_SUCCESS);
    CHECK("/x: both.txt", open_read(3, 0, P("both.txt")), E_SUCCESS);
    CHECK("/z -> /x rename", raw_path_rename(5, P("both.txt"), 3, P("both2.txt")), E_SUCCESS);
    CHECK("/z: both2.txt", stat_(5, 0, P("both2.txt")), E_SUCCESS);
    CHECK("/x -> /z link", raw_path_link(3, 0, P("both2.txt"), 5, P("both3.txt")), E_SUCCESS);
    CHECK("/z: ..", stat_(5, 0, P("..")), E_PERM);
    CHECK("/z: ../secret.txt", open_read(5, FOLLOW, P("../secret.txt")), E_PERM);
    CHECK("/z -> /x rename up", raw_path_rename(5, P("both2.txt"), 3, P("../both2.txt")),
          E_PERM);
    /* Moving /y's directory around through /z changes nothing for /y. */
    CHECK("/z: rename moved", raw_path_rename(5, P("moved"), 5, P("again")), E_SUCCESS);
    CHECK("/y: in.txt after", open_read(4, 0, P("in.txt")), E_SUCCESS);
    CHECK("/y: .. after", stat_(4, 0, P("..")), E_PERM);
    return finish();
}
