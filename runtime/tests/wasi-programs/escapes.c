/* path_rename, path_link and path_symlink that try to move, link or point outside: both
 * ends of every call stay beneath their directories. Preopens: box::/ (fd 3), box2::/b
 * (fd 4). argv[1] is the host path of the directory around the sandboxes. */
#include "check.h"

static char abs_target[1024];

int main(int argc, char **argv) {
    const char *host = init(argc, argv);
    size_t n = strlen(host);
    memcpy(abs_target, host, n);
    strcpy(abs_target + n, "/secret.txt");
    CHECK("make up", raw_path_symlink(P(".."), 3, P("up")), E_SUCCESS);

    /* Renames. */
    CHECK("rename file.txt -> ../file.txt",
          raw_path_rename(3, P("file.txt"), 3, P("../file.txt")), E_PERM);
    CHECK("rename ../secret.txt -> stolen",
          raw_path_rename(3, P("../secret.txt"), 3, P("stolen")), E_PERM);
    CHECK("rename sub -> ../sub", raw_path_rename(3, P("sub"), 3, P("../sub")), E_PERM);
    CHECK("rename file.txt -> /tmp/x", raw_path_rename(3, P("file.txt"), 3, P("/tmp/x")), E_PERM);
    CHECK("rename /secret.txt", raw_path_rename(3, P("/secret.txt"), 3, P("x")), E_PERM);
    CHECK("rename abs_dir/secret.txt -> stolen",
          raw_path_rename(3, P("abs_dir/secret.txt"), 3, P("stolen")), E_PERM);
    CHECK("rename file.txt -> abs_dir/file.txt",
          raw_path_rename(3, P("file.txt"), 3, P("abs_dir/file.txt")), E_PERM);
    CHECK("rename up/secret.txt -> stolen",
          raw_path_rename(3, P("up/secret.txt"), 3, P("stolen")), E_PERM);
    CHECK("rename file.txt -> up/file.txt",
          raw_path_rename(3, P("file.txt"), 3, P("up/file.txt")), E_PERM);
    CHECK("rename up/outside -> here",
          raw_path_rename(3, P("up/outside"), 3, P("here")), E_PERM);
    CHECK("rename sub -> sub/deeper", raw_path_rename(3, P("sub"), 3, P("sub/deeper")), E_INVAL);
    /* Across preopens: fine inside, refused above either. */
    CHECK("rename / -> /b", raw_path_rename(3, P("file.txt"), 4, P("moved.txt")), E_SUCCESS);
    CHECK("rename /b -> ../", raw_path_rename(4, P("moved.txt"), 3, P("../moved.txt")), E_PERM);
    CHECK("rename /b/.. -> /", raw_path_rename(4, P("../secret.txt"), 3, P("s.txt")), E_PERM);
    CHECK("rename /b -> /", raw_path_rename(4, P("moved.txt"), 3, P("file.txt")), E_SUCCESS);

    /* Hard links. */
    CHECK("link ../secret.txt", raw_path_link(3, 0, P("../secret.txt"), 3, P("hard")), E_PERM);
    CHECK("link file.txt -> ../hard", raw_path_link(3, 0, P("file.txt"), 3, P("../hard")), E_PERM);
    CHECK("link up/secret.txt", raw_path_link(3, 0, P("up/secret.txt"), 3, P("hard")), E_PERM);
    CHECK("link abs_dir/secret.txt",
          raw_path_link(3, 0, P("abs_dir/secret.txt"), 3, P("hard")), E_PERM);
    CHECK("link file.txt -> abs_dir/hard",
          raw_path_link(3, 0, P("file.txt"), 3, P("abs_dir/hard")), E_PERM);
    CHECK("link /b/../secret.txt", raw_path_link(4, 0, P("../secret.txt"), 3, P("hard")), E_PERM);
    /* Following the source link is refused outright (as Wasmtime does). */
    CHECK("link following abs_file", raw_path_link(3, FOLLOW, P("abs_file"), 3, P("hard")),
          E_INVAL);
    /* Without following, the new name is a link to the link: still no way out. */
    CHECK("link abs_file -> hard_link", raw_path_link(3, 0, P("abs_file"), 3, P("hard_link")),
          E_SUCCESS);
    CHECK("open hard_link", open_read(3, FOLLOW, P("hard_link")), E_PERM);

    /* Symlinks: absolute targets are refused; a relative one may say anything, but
     * leads nowhere outside. */
    CHECK("symlink /etc/passwd", raw_path_symlink(P("/etc/passwd"), 3, P("l1")), E_PERM);
    CHECK("symlink HOST/secret.txt", raw_path_symlink(P(abs_target), 3, P("l2")), E_PERM);
    CHECK("symlink /", raw_path_symlink(P("/"), 3, P("l3")), E_PERM);
    CHECK("symlink at ../l4", raw_path_symlink(P("x"), 3, P("../l4")), E_PERM);
    CHECK("symlink at abs_dir/l5", raw_path_symlink(P("x"), 3, P("abs_dir/l5")), E_PERM);
    CHECK("symlink at up/l6", raw_path_symlink(P("x"), 3, P("up/l6")), E_PERM);
    CHECK("symlink at /l7", raw_path_symlink(P("x"), 3, P("/l7")), E_PERM);
    CHECK("symlink ../../secret.txt", raw_path_symlink(P("../../secret.txt"), 3, P("l8")),
          E_SUCCESS);
    CHECK("open l8", open_read(3, FOLLOW, P("l8")), E_PERM);
    CHECK("symlink over file.txt", raw_path_symlink(P("x"), 3, P("file.txt")), E_EXIST);
    return finish();
}
