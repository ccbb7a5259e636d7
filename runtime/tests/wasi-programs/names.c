/* Hostile names: paths of PATH_MAX (4096) bytes and more, 40,000 bytes, a component
 * longer than NAME_MAX (255), interior NUL bytes, invalid UTF-8, empty paths, in every
 * path call. Preopens: box::/ (fd 3). */
#include "check.h"

static char big[40001];

/* `len` bytes of "./" repeated, ending in `name` (so the path is valid but long). */
static const char *long_path(size_t len, const char *name) {
    size_t n = strlen(name), i = 0;
    while (i + n < len) {
        big[i] = (i % 2) ? '/' : '.';
        i++;
    }
    if ((len - n) % 2) big[len - n - 1] = '/';
    memcpy(big + len - n, name, n);
    big[len] = 0;
    return big;
}

/* Every path call with (path, len) is `want`. */
static void all_calls(const char *label, const char *path, size_t len, int want) {
    CHECK(label, open_read(3, 0, path, len), want);
    CHECK("  create", open_flags(3, 0, path, len, O_CREAT_, RIGHTS_ALL), want);
    CHECK("  stat", stat_(3, 0, path, len), want);
    CHECK("  set times", raw_path_filestat_set_times(3, 0, path, len, 0, 0, 10), want);
    CHECK("  mkdir", raw_path_create_directory(3, path, len), want);
    CHECK("  rmdir", raw_path_remove_directory(3, path, len), want);
    CHECK("  unlink", raw_path_unlink_file(3, path, len), want);
    CHECK("  readlink", readlink_(3, path, len), want);
    CHECK("  rename from", raw_path_rename(3, path, len, 3, P("x")), want);
    CHECK("  rename to", raw_path_rename(3, P("file.txt"), 3, path, len), want);
    CHECK("  link from", raw_path_link(3, 0, path, len, 3, P("x")), want);
    CHECK("  link to", raw_path_link(3, 0, P("file.txt"), 3, path, len), want);
    CHECK("  symlink at", raw_path_symlink(P("x"), 3, path, len), want);
}

/* Paths of `len` bytes (`./` repeated, then a name) naming an existing file or a free
 * name, one per call: each is NAMETOOLONG, as on Linux. Wasmtime opens and stats them
 * with NAMETOOLONG too, but resolves them in every other call (cap-std splits off the
 * last component and strips the `./`s), so there each call does what it says. */
static void long_paths(const char *label, size_t len) {
    const char *victims[] = {"v_times", "v_unlink", "v_rename", "v_link", "v_rename_to",
                             "v_link_to"};
    for (size_t i = 0; i < sizeof victims / sizeof *victims; i++)
        write_file(3, victims[i], "victim\n");
    raw_path_create_directory(3, P("v_rmdir"));
    raw_path_symlink(P("file.txt"), 3, P("v_readlink"));
    CHECK(label, open_read(3, 0, long_path(len, "file.txt"), len), E_NAMETOOLONG);
    CHECK("  create", open_flags(3, 0, long_path(len, "v_new"), len, O_CREAT_, RIGHTS_ALL),
          E_NAMETOOLONG);
    CHECK("  stat", stat_(3, 0, long_path(len, "file.txt"), len), E_NAMETOOLONG);
    DIFF("  set times", raw_path_filestat_set_times(3, 0, long_path(len, "v_times"), len, 0, 0, 10),
         E_NAMETOOLONG, E_SUCCESS);
    DIFF("  mkdir", raw_path_create_directory(3, long_path(len, "v_mkdir"), len),
         E_NAMETOOLONG, E_SUCCESS);
    DIFF("  rmdir", raw_path_remove_directory(3, long_path(len, "v_rmdir"), len),
         E_NAMETOOLONG, E_SUCCESS);
    DIFF("  unlink", raw_path_unlink_file(3, long_path(len, "v_unlink"), len),
         E_NAMETOOLONG, E_SUCCESS);
    DIFF("  readlink", readlink_(3, long_path(len, "v_readlink"), len), E_NAMETOOLONG, E_SUCCESS);
    DIFF("  rename from", raw_path_rename(3, long_path(len, "v_rename"), len, 3, P("v_renamed")),
         E_NAMETOOLONG, E_SUCCESS);
    DIFF("  rename to", raw_path_rename(3, P("v_rename_to"), 3, long_path(len, "v_moved"), len),
         E_NAMETOOLONG, E_SUCCESS);
    DIFF("  link from", raw_path_link(3, 0, long_path(len, "v_link"), len, 3, P("v_linked")),
         E_NAMETOOLONG, E_SUCCESS);
    DIFF("  link to", raw_path_link(3, 0, P("v_link_to"), 3, long_path(len, "v_hard"), len),
         E_NAMETOOLONG, E_SUCCESS);
    DIFF("  symlink at", raw_path_symlink(P("x"), 3, long_path(len, "v_symlink"), len),
         E_NAMETOOLONG, E_SUCCESS);
    /* Clean up (short paths), so the next round starts alike. */
    const char *made[] = {"v_times", "v_unlink", "v_rename", "v_link", "v_rename_to",
                          "v_link_to", "v_renamed", "v_moved", "v_linked", "v_hard",
                          "v_symlink", "v_readlink"};
    for (size_t i = 0; i < sizeof made / sizeof *made; i++) raw_path_unlink_file(3, P(made[i]));
    raw_path_remove_directory(3, P("v_mkdir"));
    raw_path_remove_directory(3, P("v_rmdir"));
}

int main(int argc, char **argv) {
    init(argc, argv);
    /* Just below PATH_MAX: a long but ordinary path. */
    CHECK("4095 bytes", open_read(3, 0, long_path(4095, "file.txt"), 4095), E_SUCCESS);
    CHECK("4095 bytes stat", stat_(3, 0, big, 4095), E_SUCCESS);
    long_paths("4096 bytes", 4096);
    long_paths("40000 bytes", 40000);
    /* One name longer than NAME_MAX: NAMETOOLONG everywhere, in Wasmtime too. */
    memset(big, 'n', 40000);
    all_calls("one 40000-byte name", big, 40000, E_NAMETOOLONG);
    all_calls("a 256-byte name", big, 256, E_NAMETOOLONG);
    CHECK("a 255-byte name", open_flags(3, 0, big, 255, O_CREAT_, RIGHTS_ALL), E_SUCCESS);
    CHECK("  unlink", raw_path_unlink_file(3, big, 255), E_SUCCESS);
    CHECK("symlink to a 4096-byte target",
          raw_path_symlink(long_path(4096, "file.txt"), 4096, 3, P("long")), E_NAMETOOLONG);
    CHECK("symlink to a 4095-byte target",
          raw_path_symlink(long_path(4095, "file.txt"), 4095, 3, P("long")), E_SUCCESS);
    CHECK("  open it", open_read(3, FOLLOW, P("long")), E_SUCCESS);

    /* NUL bytes: the path the kernel would see is cut short; refused, never truncated. */
    all_calls("file.txt NUL x", "file.txt\0x", 10, E_INVAL);
    all_calls("file.txt NUL", "file.txt\0", 9, E_INVAL);
    all_calls("NUL ../secret.txt", "\0../secret.txt", 14, E_INVAL);
    CHECK("symlink to NUL", raw_path_symlink("x\0y", 3, 3, P("nul_link")), E_INVAL);

    /* Invalid UTF-8. */
    all_calls("ff fe", "\xff\xfe", 2, E_ILSEQ);
    all_calls("file.txt ff", "file.txt\xff", 9, E_ILSEQ);
    all_calls("overlong ../", "\xc0\xae\xc0\xae/secret.txt", 15, E_ILSEQ);
    CHECK("symlink to ff", raw_path_symlink("\xff", 1, 3, P("bad_link")), E_ILSEQ);

    /* Empty paths. */
    CHECK("empty open", open_read(3, 0, "", 0), E_NOENT);
    CHECK("empty stat", stat_(3, 0, "", 0), E_NOENT);
    CHECK("empty mkdir", raw_path_create_directory(3, "", 0), E_NOENT);
    CHECK("empty unlink", raw_path_unlink_file(3, "", 0), E_NOENT);
    CHECK("empty symlink target", raw_path_symlink("", 0, 3, P("empty_link")), E_NOENT);

    /* A trailing slash on a file. */
    CHECK("file.txt/", open_read(3, 0, P("file.txt/")), E_NOTDIR);
    CHECK("file.txt/ stat", stat_(3, FOLLOW, P("file.txt/")), E_NOTDIR);
    /* Not following the final link changes nothing for a slash, as on Linux; Wasmtime
     * (cap-std) drops the slash and describes file.txt. */
    DIFF("file.txt/ lstat", stat_(3, 0, P("file.txt/")), E_NOTDIR, E_SUCCESS);
    CHECK("file.txt/ set times", raw_path_filestat_set_times(3, FOLLOW, P("file.txt/"), 0, 0, 10),
          E_NOTDIR);
    CHECK("file.txt/ set link times", raw_path_filestat_set_times(3, 0, P("file.txt/"), 0, 0, 10),
          E_NOTDIR);
    CHECK("file.txt/ unlink", raw_path_unlink_file(3, P("file.txt/")), E_NOTDIR);
    CHECK("file.txt/ readlink", readlink_(3, P("file.txt/")), E_NOTDIR);
    CHECK("file.txt/ rename", raw_path_rename(3, P("file.txt/"), 3, P("y")), E_NOTDIR);
    CHECK("file.txt/ link", raw_path_link(3, 0, P("file.txt/"), 3, P("y")), E_NOTDIR);
    CHECK("sub/ rmdir nothing", raw_path_remove_directory(3, P("nothere/")), E_NOENT);
    return finish();
}
