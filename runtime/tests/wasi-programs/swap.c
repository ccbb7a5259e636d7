/* A symlink swapped in for a directory between two calls: the guest opens and uses a
 * directory, then replaces it (by rename) with a link that leads outside, over and over;
 * every path through the link is refused, and the descriptor it opened keeps naming the
 * real directory. Preopens: box::/ (fd 3). */
#include "check.h"

int main(int argc, char **argv) {
    init(argc, argv);
    CHECK("mkdir d", raw_path_create_directory(3, P("d")), E_SUCCESS);
    CHECK("write d/f.txt", write_file(3, "d/f.txt", "real\n"), E_SUCCESS);
    int32_t d = open_dir(3, "d");
    CHECK("open d", d < 0 ? -d : 0, E_SUCCESS);
    CHECK("stat d/f.txt", stat_(3, 0, P("d/f.txt")), E_SUCCESS);
    /* A relative link to the outside, ready to be swapped in. */
    CHECK("make evil", raw_path_symlink(P(".."), 3, P("evil")), E_SUCCESS);

    for (int round = 0; round < 20; round++) {
        /* Swap: the directory goes away, the link takes its name. */
        CHECK("d -> d_real", raw_path_rename(3, P("d"), 3, P("d_real")), E_SUCCESS);
        CHECK("evil -> d", raw_path_rename(3, P("evil"), 3, P("d")), E_SUCCESS);
        CHECK("open d/secret.txt", open_read(3, FOLLOW, P("d/secret.txt")), E_PERM);
        CHECK("open d/secret.txt nofollow", open_read(3, 0, P("d/secret.txt")), E_PERM);
        CHECK("stat d/secret.txt", stat_(3, 0, P("d/secret.txt")), E_PERM);
        CHECK("create d/planted", open_flags(3, 0, P("d/planted"), O_CREAT_, RIGHTS_ALL),
              E_PERM);
        CHECK("mkdir d/evil", raw_path_create_directory(3, P("d/evil")), E_PERM);
        CHECK("unlink d/secret.txt", raw_path_unlink_file(3, P("d/secret.txt")), E_PERM);
        CHECK("rename d/secret.txt", raw_path_rename(3, P("d/secret.txt"), 3, P("got")),
              E_PERM);
        CHECK("link d/secret.txt", raw_path_link(3, 0, P("d/secret.txt"), 3, P("got")),
              E_PERM);
        CHECK("open dir d/", open_flags(3, 0, P("d/"), O_DIRECTORY_, RIGHTS_DIR), E_PERM);
        /* The descriptor opened before the swap is still the real directory. */
        CHECK("fd: f.txt", open_read(d, 0, P("f.txt")), E_SUCCESS);
        CHECK("fd: secret.txt", open_read(d, 0, P("secret.txt")), E_NOENT);
        CHECK("fd: ../secret.txt", open_read(d, 0, P("../secret.txt")), E_PERM);
        CHECK("fd: write", write_file(d, "written.txt", "via fd\n"), E_SUCCESS);
        /* Swap back. */
        CHECK("d -> evil", raw_path_rename(3, P("d"), 3, P("evil")), E_SUCCESS);
        CHECK("d_real -> d", raw_path_rename(3, P("d_real"), 3, P("d")), E_SUCCESS);
        CHECK("stat d/written.txt", stat_(3, 0, P("d/written.txt")), E_SUCCESS);
    }

    /* The host's absolute link swapped in the same way. */
    CHECK("d -> d_real", raw_path_rename(3, P("d"), 3, P("d_real")), E_SUCCESS);
    CHECK("abs_dir -> d", raw_path_rename(3, P("abs_dir"), 3, P("d")), E_SUCCESS);
    CHECK("abs: open d/secret.txt", open_read(3, FOLLOW, P("d/secret.txt")), E_PERM);
    CHECK("abs: stat d/secret.txt", stat_(3, 0, P("d/secret.txt")), E_PERM);
    CHECK("abs: create d/planted",
          open_flags(3, 0, P("d/planted"), O_CREAT_, RIGHTS_ALL), E_PERM);
    CHECK("abs: unlink d/secret.txt", raw_path_unlink_file(3, P("d/secret.txt")), E_PERM);
    CHECK("abs: fd: f.txt", open_read(d, 0, P("f.txt")), E_SUCCESS);
    CHECK("abs: readlink d", readlink_(3, P("d")), E_PERM);
    return finish();
}
