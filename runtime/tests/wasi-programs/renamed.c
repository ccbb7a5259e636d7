/* A directory renamed while its descriptor is open: the descriptor follows the directory,
 * never the path it was opened by; a new directory made at the old path is not reachable
 * through it; moved deeper or removed, it still has no way up. Preopens: box::/ (fd 3). */
#include "check.h"

int main(int argc, char **argv) {
    init(argc, argv);
    CHECK("mkdir a", raw_path_create_directory(3, P("a")), E_SUCCESS);
    CHECK("write a/one.txt", write_file(3, "a/one.txt", "one\n"), E_SUCCESS);
    int32_t a = open_dir(3, "a");
    CHECK("open a", a < 0 ? -a : 0, E_SUCCESS);

    CHECK("rename a -> b", raw_path_rename(3, P("a"), 3, P("b")), E_SUCCESS);
    CHECK("mkdir new a", raw_path_create_directory(3, P("a")), E_SUCCESS);
    CHECK("write a/decoy.txt", write_file(3, "a/decoy.txt", "decoy\n"), E_SUCCESS);

    CHECK("fd: one.txt", open_read(a, 0, P("one.txt")), E_SUCCESS);
    CHECK("fd: decoy.txt", open_read(a, 0, P("decoy.txt")), E_NOENT);
    CHECK("fd: write two.txt", write_file(a, "two.txt", "two\n"), E_SUCCESS);
    CHECK("b/two.txt", stat_(3, 0, P("b/two.txt")), E_SUCCESS);
    CHECK("a/two.txt", stat_(3, 0, P("a/two.txt")), E_NOENT);
    CHECK("fd: listing", list_dir(a), E_SUCCESS);

    /* Moved deeper: still the same directory, still no way up. */
    CHECK("rename b -> sub/b", raw_path_rename(3, P("b"), 3, P("sub/b")), E_SUCCESS);
    CHECK("fd: one.txt after move", open_read(a, 0, P("one.txt")), E_SUCCESS);
    CHECK("fd: ..", stat_(a, 0, P("..")), E_PERM);
    CHECK("fd: ../inner.txt", open_read(a, 0, P("../inner.txt")), E_PERM);
    CHECK("fd: ../../file.txt", open_read(a, 0, P("../../file.txt")), E_PERM);
    CHECK("move it out", raw_path_rename(3, P("sub/b"), 3, P("../b")), E_PERM);
    CHECK("move it out by fd", raw_path_rename(a, P("."), 3, P("../b")), E_PERM);

    /* Removed while open: nothing can be made in it, and it has no way anywhere. */
    CHECK("unlink one", raw_path_unlink_file(3, P("sub/b/one.txt")), E_SUCCESS);
    CHECK("unlink two", raw_path_unlink_file(3, P("sub/b/two.txt")), E_SUCCESS);
    CHECK("rmdir sub/b", raw_path_remove_directory(3, P("sub/b")), E_SUCCESS);
    CHECK("fd: create in removed",
          open_flags(a, 0, P("three.txt"), O_CREAT_, RIGHTS_ALL), E_NOENT);
    CHECK("fd: one.txt in removed", open_read(a, 0, P("one.txt")), E_NOENT);
    CHECK("fd: .. in removed", open_read(a, 0, P("../file.txt")), E_PERM);
    CHECK("fd: mkdir in removed", raw_path_create_directory(a, P("x")), E_NOENT);
    return finish();
}
