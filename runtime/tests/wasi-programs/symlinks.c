/* Symlinks that point outside: absolute (made by the host: abs_file, abs_dir, abs_etc,
 * abs_root), relative, via `..`, chained, looping, dangling ones that would create a file
 * outside; reading a link never shows a host path. Preopens: box::/ (fd 3). */
#include "check.h"

static void link_(const char *target, const char *name) {
    CHECK(name, raw_path_symlink(P(target), 3, P(name)), E_SUCCESS);
}

/* Every way to use `path` (which leads outside) is PERM. */
static void outside(const char *path) {
    CHECK(path, open_read(3, FOLLOW, P(path)), E_PERM);
    CHECK("  stat", stat_(3, FOLLOW, P(path)), E_PERM);
    CHECK("  set times", raw_path_filestat_set_times(3, FOLLOW, P(path), 0, 0, 10), E_PERM);
    CHECK("  open for writing",
          open_flags(3, FOLLOW, P(path), 0, RIGHT_FD_WRITE | RIGHT_FD_READ), E_PERM);
    CHECK("  truncate", open_flags(3, FOLLOW, P(path), O_TRUNC_, RIGHTS_ALL), E_PERM);
}

int main(int argc, char **argv) {
    init(argc, argv);
    /* Links the guest makes itself: relative targets are allowed, wherever they point. */
    link_("../secret.txt", "rel_out");
    link_("..", "up");
    link_("chain2", "chain1");
    link_("sub/chain3", "chain2");
    link_("../../secret.txt", "sub/chain3");
    link_("up/outside/secret2.txt", "via_up");
    link_("sub/../../outside", "out_dir");
    link_("loop_b", "loop_a");
    link_("loop_a", "loop_b");
    link_("self", "self");
    link_("../created_outside.txt", "dangling_out");
    link_("up/outside/created.txt", "dangling_via_up");
    link_("sub/inner.txt", "ok_link");
    link_("../file.txt", "sub/ok_up");
    link_("sub", "ok_dir");

    const char *escapes[] = {
        "abs_file", "abs_etc", "abs_dir/secret.txt", "abs_dir/box/file.txt",
        "abs_root/etc/passwd", "rel_out", "up/secret.txt", "up/box/file.txt",
        "chain1", "chain2", "sub/chain3", "via_up", "out_dir/secret2.txt",
        "ok_dir/chain3", "ok_dir/../rel_out",
    };
    for (size_t i = 0; i < sizeof escapes / sizeof *escapes; i++) outside(escapes[i]);

    /* Without SYMLINK_FOLLOW the final link is the entry itself: open refuses it (LOOP)... */
    CHECK("nofollow open rel_out", open_read(3, 0, P("rel_out")), E_LOOP);
    CHECK("nofollow open abs_file", open_read(3, 0, P("abs_file")), E_LOOP);
    /* ...stat describes the link, inside the sandbox. */
    CHECK("lstat abs_file", stat_(3, 0, P("abs_file")), E_SUCCESS);
    CHECK("lstat rel_out", stat_(3, 0, P("rel_out")), E_SUCCESS);
    CHECK("set link times rel_out",
          raw_path_filestat_set_times(3, 0, P("rel_out"), 0, 0, 10), E_SUCCESS);
    /* Intermediate links are always followed, and checked. */
    CHECK("nofollow abs_dir/secret.txt", open_read(3, 0, P("abs_dir/secret.txt")), E_PERM);
    CHECK("nofollow up/secret.txt", open_read(3, 0, P("up/secret.txt")), E_PERM);
    CHECK("lstat up/secret.txt", stat_(3, 0, P("up/secret.txt")), E_PERM);
    /* A trailing slash follows the final link too. */
    CHECK("abs_dir/", open_flags(3, 0, P("abs_dir/"), O_DIRECTORY_, RIGHTS_DIR), E_PERM);
    CHECK("up/", open_flags(3, 0, P("up/"), O_DIRECTORY_, RIGHTS_DIR), E_PERM);
    /* For a stat too, as POSIX says; Wasmtime (cap-std) drops the slash and describes
     * the link itself. */
    DIFF("lstat abs_dir/", stat_(3, 0, P("abs_dir/")), E_PERM, E_SUCCESS);
    CHECK("stat abs_dir/", stat_(3, FOLLOW, P("abs_dir/")), E_PERM);
    CHECK("open dir abs_dir", open_flags(3, FOLLOW, P("abs_dir"), O_DIRECTORY_, RIGHTS_DIR),
          E_PERM);

    /* Loops. */
    CHECK("loop_a", open_read(3, FOLLOW, P("loop_a")), E_LOOP);
    CHECK("self/x", open_read(3, FOLLOW, P("self/x")), E_LOOP);
    CHECK("stat loop_b", stat_(3, FOLLOW, P("loop_b")), E_LOOP);
    CHECK("mkdir self/x", raw_path_create_directory(3, P("self/x")), E_LOOP);

    /* Creating, removing and linking through a link that leads outside. */
    CHECK("create via dangling_out",
          open_flags(3, FOLLOW, P("dangling_out"), O_CREAT_, RIGHTS_ALL), E_PERM);
    CHECK("create via dangling_via_up",
          open_flags(3, FOLLOW, P("dangling_via_up"), O_CREAT_, RIGHTS_ALL), E_PERM);
    CHECK("create up/new.txt", open_flags(3, 0, P("up/new.txt"), O_CREAT_, RIGHTS_ALL), E_PERM);
    CHECK("create abs_dir/new.txt",
          open_flags(3, 0, P("abs_dir/new.txt"), O_CREAT_, RIGHTS_ALL), E_PERM);
    CHECK("mkdir up/newdir", raw_path_create_directory(3, P("up/newdir")), E_PERM);
    CHECK("mkdir abs_dir/newdir", raw_path_create_directory(3, P("abs_dir/newdir")), E_PERM);
    CHECK("unlink up/secret.txt", raw_path_unlink_file(3, P("up/secret.txt")), E_PERM);
    CHECK("unlink abs_dir/secret.txt", raw_path_unlink_file(3, P("abs_dir/secret.txt")),
          E_PERM);
    CHECK("unlink out_dir/secret2.txt", raw_path_unlink_file(3, P("out_dir/secret2.txt")),
          E_PERM);
    CHECK("rmdir up/outside", raw_path_remove_directory(3, P("up/outside")), E_PERM);
    CHECK("rmdir abs_dir/outside", raw_path_remove_directory(3, P("abs_dir/outside")), E_PERM);
    CHECK("symlink in up/", raw_path_symlink(P("x"), 3, P("up/planted")), E_PERM);
    CHECK("readlink up/box/abs_file", readlink_(3, P("up/box/abs_file")), E_PERM);

    /* Reading a link with an absolute target would show a host path: refused. */
    CHECK("readlink abs_file", readlink_(3, P("abs_file")), E_PERM);
    CHECK("readlink abs_dir", readlink_(3, P("abs_dir")), E_PERM);
    CHECK("readlink abs_etc", readlink_(3, P("abs_etc")), E_PERM);
    CHECK("readlink abs_root", readlink_(3, P("abs_root")), E_PERM);
    /* A relative target is the guest's own text. */
    CHECK("readlink rel_out", readlink_(3, P("rel_out")), E_SUCCESS);

    /* Links that stay inside work. */
    CHECK("ok_link", open_read(3, FOLLOW, P("ok_link")), E_SUCCESS);
    CHECK("sub/ok_up", open_read(3, FOLLOW, P("sub/ok_up")), E_SUCCESS);
    CHECK("ok_dir/inner.txt", open_read(3, 0, P("ok_dir/inner.txt")), E_SUCCESS);
    CHECK("ok_dir/../file.txt", open_read(3, 0, P("ok_dir/../file.txt")), E_SUCCESS);

    /* Removing a link removes the link, never its target. */
    CHECK("unlink abs_file", raw_path_unlink_file(3, P("abs_file")), E_SUCCESS);
    CHECK("unlink rel_out", raw_path_unlink_file(3, P("rel_out")), E_SUCCESS);
    CHECK("unlink up", raw_path_unlink_file(3, P("up")), E_SUCCESS);
    CHECK("rmdir abs_dir", raw_path_remove_directory(3, P("abs_dir")), E_NOTDIR);
    return finish();
}
