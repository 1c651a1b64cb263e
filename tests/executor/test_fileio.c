/*
 * test_fileio.c — the kit's one safe file writer and reader
 * (executor/src/fileio.c): every refusal (existing path, symbolic link,
 * directory, FIFO, missing directory, over the cap) and the replace and
 * no-sync paths, on real files in a fresh temporary directory.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor/msp_util.h"

TestSuite(fileio, .timeout = TEST_TIMEOUT(5));

static char dir[64];

/* A fresh directory for the test; name gets dir/leaf. */
static void fresh_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/msp-fileio-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void in_dir(char *out, size_t n, const char *leaf)
{
    snprintf(out, n, "%s/%s", dir, leaf);
}

/* The number of entries in dir other than . and .. */
static int entries(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ls -A %s | wc -l", dir);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    int n = -1;
    cr_assert_eq(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

static void rm_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(fileio, write_creates_the_file_with_its_bytes_and_mode)
{
    fresh_dir();
    char p[PATH_MAX];
    in_dir(p, sizeof p, "out.json");
    cr_assert_eq(msp_write_file(p, "{\"a\":1}", 7, 0640, 0), 0);
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0640);
    char *got = NULL;
    size_t len = 0;
    cr_assert_eq(msp_read_file(p, 100, &got, &len), 0);
    cr_expect_eq(len, 7);
    cr_expect_str_eq(got, "{\"a\":1}");
    free(got);
    cr_expect_eq(entries(), 1, "no temporary file is left behind");
    rm_dir();
}

Test(fileio, write_without_replace_refuses_an_existing_file_with_eexist)
{
    fresh_dir();
    char p[PATH_MAX];
    in_dir(p, sizeof p, "f");
    cr_assert_eq(msp_write_file(p, "old", 3, 0600, 0), 0);
    errno = 0;
    cr_expect_eq(msp_write_file(p, "new", 3, 0600, 0), -1);
    cr_expect_eq(errno, EEXIST);
    cr_expect_str_eq(msp_file_strerror(EEXIST), "already exists");
    char *got = NULL;
    size_t len = 0;
    cr_assert_eq(msp_read_file(p, 100, &got, &len), 0);
    cr_expect_str_eq(got, "old", "the existing file is untouched");
    free(got);
    cr_expect_eq(entries(), 1);
    rm_dir();
}

Test(fileio, write_with_replace_replaces_a_regular_file_without_sync)
{
    fresh_dir();
    char p[PATH_MAX];
    in_dir(p, sizeof p, "f");
    cr_assert_eq(msp_write_file(p, "old contents", 12, 0600, 0), 0);
    cr_assert_eq(msp_write_file(p, "new", 3, 0644,
                                MSP_WRITE_REPLACE | MSP_WRITE_NO_SYNC),
                 0);
    char *got = NULL;
    size_t len = 0;
    cr_assert_eq(msp_read_file(p, 100, &got, &len), 0);
    cr_expect_eq(len, 3);
    cr_expect_str_eq(got, "new");
    free(got);
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0644);
    cr_expect_eq(entries(), 1, "no temporary file is left behind");
    rm_dir();
}

Test(fileio, write_never_follows_a_symbolic_link_at_the_target)
{
    fresh_dir();
    char p[PATH_MAX], victim[PATH_MAX], dangling[PATH_MAX];
    in_dir(p, sizeof p, "link");
    in_dir(victim, sizeof victim, "victim");
    in_dir(dangling, sizeof dangling, "dangling");
    cr_assert_eq(msp_write_file(victim, "keep", 4, 0600, 0), 0);
    cr_assert_eq(symlink(victim, p), 0);
    cr_assert_eq(symlink("nowhere", dangling), 0);
    for (int flags = 0; flags <= MSP_WRITE_REPLACE; flags++) {
        errno = 0;
        cr_expect_eq(msp_write_file(p, "evil", 4, 0600, flags), -1);
        cr_expect_eq(errno, ELOOP, "flags %d", flags);
        errno = 0;
        cr_expect_eq(msp_write_file(dangling, "evil", 4, 0600, flags), -1);
        cr_expect_eq(errno, ELOOP, "dangling link, flags %d", flags);
    }
    cr_expect_str_eq(msp_file_strerror(ELOOP),
                     "a symbolic link (not followed)");
    char *got = NULL;
    size_t len = 0;
    cr_assert_eq(msp_read_file(victim, 100, &got, &len), 0);
    cr_expect_str_eq(got, "keep", "the link's target is untouched");
    free(got);
    struct stat st;
    cr_expect_neq(stat(dangling, &st), 0, "no file created behind the link");
    cr_expect_eq(entries(), 3);
    rm_dir();
}

Test(fileio, write_with_replace_refuses_a_directory_or_a_fifo)
{
    fresh_dir();
    char d[PATH_MAX], f[PATH_MAX];
    in_dir(d, sizeof d, "sub");
    in_dir(f, sizeof f, "fifo");
    cr_assert_eq(mkdir(d, 0700), 0);
    cr_assert_eq(mkfifo(f, 0600), 0);
    errno = 0;
    cr_expect_eq(msp_write_file(d, "x", 1, 0600, MSP_WRITE_REPLACE), -1);
    cr_expect_eq(errno, EISDIR);
    errno = 0;
    cr_expect_eq(msp_write_file(f, "x", 1, 0600, MSP_WRITE_REPLACE), -1);
    cr_expect_eq(errno, EINVAL);
    cr_expect_str_eq(msp_file_strerror(EINVAL), "not a regular file");
    errno = 0;
    cr_expect_eq(msp_write_file(d, "x", 1, 0600, 0), -1);
    cr_expect_eq(errno, EEXIST, "without replace: refused as existing");
    struct stat st;
    cr_assert_eq(lstat(f, &st), 0);
    cr_expect(S_ISFIFO(st.st_mode), "the FIFO is still a FIFO");
    cr_expect_eq(entries(), 2, "no temporary file is left behind");
    rm_dir();
}

Test(fileio, write_into_a_missing_directory_fails_with_enoent)
{
    fresh_dir();
    char p[PATH_MAX];
    in_dir(p, sizeof p, "no/such/dir/f");
    errno = 0;
    cr_expect_eq(msp_write_file(p, "x", 1, 0600, 0), -1);
    cr_expect_eq(errno, ENOENT);
    cr_expect_str_eq(msp_file_strerror(ENOENT), strerror(ENOENT));
    in_dir(p, sizeof p, "no");
    cr_assert_eq(msp_write_file(p, "file", 4, 0600, 0), 0);
    in_dir(p, sizeof p, "no/f");
    errno = 0;
    cr_expect_eq(msp_write_file(p, "x", 1, 0600, 0), -1);
    cr_expect_eq(errno, ENOTDIR, "a file where a directory should be");
    cr_expect_eq(entries(), 1);
    rm_dir();
}

Test(fileio, write_rejects_invalid_arguments_with_einval)
{
    errno = 0;
    cr_expect_eq(msp_write_file(NULL, "x", 1, 0600, 0), -1);
    cr_expect_eq(errno, EINVAL);
    errno = 0;
    cr_expect_eq(msp_write_file("", "x", 1, 0600, 0), -1);
    cr_expect_eq(errno, EINVAL);
    errno = 0;
    cr_expect_eq(msp_write_file("/tmp/x-never", NULL, 1, 0600, 0), -1);
    cr_expect_eq(errno, EINVAL);
}

Test(fileio, write_of_zero_bytes_creates_an_empty_file_in_the_cwd)
{
    fresh_dir();
    char old[PATH_MAX];
    cr_assert_not_null(getcwd(old, sizeof old));
    cr_assert_eq(chdir(dir), 0);
    cr_expect_eq(msp_write_file("empty", NULL, 0, 0600, 0), 0,
                 "a bare name, no directory part");
    char *got = NULL;
    size_t len = 7;
    cr_expect_eq(msp_read_file("empty", 0, &got, &len), 0);
    cr_expect_eq(len, 0);
    cr_expect_str_eq(got, "");
    free(got);
    cr_assert_eq(chdir(old), 0);
    cr_expect_eq(entries(), 1);
    rm_dir();
}

Test(fileio, read_refuses_a_fifo_without_blocking_and_a_directory)
{
    fresh_dir();
    char f[PATH_MAX];
    in_dir(f, sizeof f, "fifo");
    cr_assert_eq(mkfifo(f, 0600), 0);
    char *got = NULL;
    size_t len = 0;
    errno = 0;
    cr_expect_eq(msp_read_file(f, 100, &got, &len), -1);
    cr_expect_eq(errno, EINVAL, "a FIFO is not a regular file");
    errno = 0;
    cr_expect_eq(msp_read_file(dir, 100, &got, &len), -1);
    cr_expect_eq(errno, EISDIR);
    cr_expect_null(got);
    rm_dir();
}

Test(fileio, read_of_a_missing_file_or_bad_arguments_fails)
{
    char *got = NULL;
    size_t len = 0;
    errno = 0;
    cr_expect_eq(msp_read_file("/nonexistent-msp/f", 100, &got, &len), -1);
    cr_expect_eq(errno, ENOENT);
    errno = 0;
    cr_expect_eq(msp_read_file(NULL, 100, &got, &len), -1);
    cr_expect_eq(errno, EINVAL);
    errno = 0;
    cr_expect_eq(msp_read_file("/etc/hostname", 100, NULL, &len), -1);
    cr_expect_eq(errno, EINVAL);
    errno = 0;
    cr_expect_eq(msp_read_file("/etc/hostname", 100, &got, NULL), -1);
    cr_expect_eq(errno, EINVAL);
    errno = 0;
    cr_expect_eq(msp_read_file("/etc/hostname", (size_t)-1, &got, &len), -1);
    cr_expect_eq(errno, EINVAL, "a cap with no room for the NUL");
    cr_expect_null(got);
}

Test(fileio, read_over_the_cap_fails_with_efbig_and_at_the_cap_succeeds)
{
    fresh_dir();
    char p[PATH_MAX];
    in_dir(p, sizeof p, "big");
    cr_assert_eq(msp_write_file(p, "0123456789", 10, 0600, 0), 0);
    char *got = NULL;
    size_t len = 0;
    errno = 0;
    cr_expect_eq(msp_read_file(p, 9, &got, &len), -1);
    cr_expect_eq(errno, EFBIG);
    cr_expect_null(got);
    cr_expect_str_eq(msp_file_strerror(EFBIG), "too large");
    cr_assert_eq(msp_read_file(p, 10, &got, &len), 0);
    cr_expect_eq(len, 10);
    cr_expect_str_eq(got, "0123456789");
    free(got);
    rm_dir();
}

Test(fileio, read_of_a_file_whose_size_stat_does_not_know_grows_to_the_cap)
{
    /* /proc files say size 0 and hold more: the reader grows its buffer,
     * and past the cap it fails with EFBIG */
    char *got = NULL;
    size_t len = 0;
    cr_assert_eq(msp_read_file("/proc/self/status", 1 << 20, &got, &len), 0);
    cr_expect_gt(len, 16);
    cr_expect_not_null(strstr(got, "Name:"));
    cr_expect_eq(strlen(got), len);
    free(got);
    got = NULL;
    errno = 0;
    cr_expect_eq(msp_read_file("/proc/self/status", 8, &got, &len), -1);
    cr_expect_eq(errno, EFBIG);
    cr_expect_null(got);
}
