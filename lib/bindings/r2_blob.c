/*
 * r2_blob.c — the files that hold R2 object bodies (and multipart parts), one file per body, named by a
 * random 32-hex-digit id, in the bucket's folder beside its metadata database:
 *
 *   <state_dir>/r2/<bucket>.sqlite          metadata (r2.c)
 *   <state_dir>/r2/<bucket>.blobs/<id>      bodies; ".tmp-<id>" while being written
 *
 * With no state directory the folder is a private temporary one, removed when the bucket closes.
 *
 * A body is written to ".tmp-<id>", fsync'd, renamed to "<id>" and the folder fsync'd BEFORE the row naming
 * it is committed (r2.c), so a committed row always names a complete file. A crash between the rename and
 * the commit leaves a file no row names: ew__r2_blob_sweep() removes such files (and stale temporary files)
 * when the bucket opens, once they are older than SWEEP_AGE_S (younger ones may belong to a put of another
 * thread or process that is about to commit). Bodies are never modified: a new version is a new file, and
 * the old file is unlinked after the commit that replaced it. Readers that open a file and find it gone
 * (replaced meanwhile by another thread) look the key up again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define SWEEP_AGE_S 60
#define COPY_CHUNK (256u * 1024u)

static const char *const HASH_NAMES[EW__R2_NHASH] = {"MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"};
static const mbedtls_md_type_t HASH_TYPES[EW__R2_NHASH] = {MBEDTLS_MD_MD5, MBEDTLS_MD_SHA1, MBEDTLS_MD_SHA256,
                                                            MBEDTLS_MD_SHA384, MBEDTLS_MD_SHA512};
static const size_t HASH_SIZES[EW__R2_NHASH] = {16, 20, 32, 48, 64};

const char *ew__r2_hash_name(int i)
{
    return HASH_NAMES[i];
}

size_t ew__r2_hash_size(int i)
{
    return HASH_SIZES[i];
}

/* ---------------------------------------------------------------------------------------------------------
 * Ids and hashes
 */

void ew__r2_random_hex(char *out, size_t nbytes)
{
    unsigned char raw[32];
    size_t got = 0;
    if (nbytes > sizeof(raw))
        nbytes = sizeof(raw);
    while (got < nbytes) {
        ssize_t n = getrandom(raw + got, nbytes - got, 0);
        if (n > 0) {
            got += (size_t) n;
        } else if (errno != EINTR) {
            /* No kernel randomness: ids only need to be unique, not secret. */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            for (size_t i = got; i < nbytes; i++)
                raw[i] = (unsigned char) ((uint64_t) ts.tv_nsec * 2654435761u >> (i % 8 * 8)) ^ (unsigned char) rand();
            got = nbytes;
        }
    }
    ew__r2_hex(raw, nbytes, out);
}

void ew__r2_hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

bool ew__r2_hash_start(ew__r2_hash_t *h, unsigned wanted)
{
    memset(h, 0, sizeof(*h));
    h->wanted = wanted | 1u; /* MD5 always: it is the etag */
    for (int i = 0; i < EW__R2_NHASH; i++) {
        mbedtls_md_init(&h->md[i]);
        if (!(h->wanted & (1u << i)))
            continue;
        if (mbedtls_md_setup(&h->md[i], mbedtls_md_info_from_type(HASH_TYPES[i]), 0) != 0 ||
            mbedtls_md_starts(&h->md[i]) != 0) {
            ew__r2_hash_dispose(h);
            return false;
        }
    }
    return true;
}

void ew__r2_hash_update(ew__r2_hash_t *h, const void *p, size_t n)
{
    for (int i = 0; i < EW__R2_NHASH; i++)
        if (h->wanted & (1u << i))
            (void) mbedtls_md_update(&h->md[i], p, n);
}

void ew__r2_hash_finish(ew__r2_hash_t *h)
{
    for (int i = 0; i < EW__R2_NHASH; i++) {
        if (h->wanted & (1u << i)) {
            unsigned char out[64];
            (void) mbedtls_md_finish(&h->md[i], out);
            ew__r2_hex(out, HASH_SIZES[i], h->hex[i]);
        }
    }
    ew__r2_hash_dispose(h);
}

void ew__r2_hash_dispose(ew__r2_hash_t *h)
{
    for (int i = 0; i < EW__R2_NHASH; i++)
        mbedtls_md_free(&h->md[i]);
}

/* ---------------------------------------------------------------------------------------------------------
 * The folder
 */

/* rm -r of a folder holding only files (the private temporary folder). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *p;
            if (asprintf(&p, "%s/%s", dir, e->d_name) >= 0) {
                unlink(p);
                free(p);
            }
        }
        closedir(d);
    }
    rmdir(dir);
}

ew_status_t ew__r2_dir_open(ew__r2_dir_t *d, const char *state_dir, const char *id, ew_error_t *err)
{
    memset(d, 0, sizeof(*d));
    d->fd = -1;
    if (state_dir != NULL) {
        if (asprintf(&d->path, "%s/r2/%s.blobs", state_dir, id) < 0)
            return ew__error_set(err, EW_ERR_NOMEM, "out of memory opening r2/%s", id);
        if (mkdir(d->path, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            ew__error_set(err, EW_ERR_IO, "cannot create the folder %s: %s", d->path, strerror(e));
            free(d->path);
            d->path = NULL;
            return EW_ERR_IO;
        }
    } else {
        const char *tmp = getenv("TMPDIR");
        if (asprintf(&d->path, "%s/ew-r2-XXXXXX", tmp && tmp[0] ? tmp : "/tmp") < 0)
            return ew__error_set(err, EW_ERR_NOMEM, "out of memory opening r2/%s", id);
        if (mkdtemp(d->path) == NULL) {
            int e = errno;
            ew__error_set(err, EW_ERR_IO, "cannot create a temporary folder for r2/%s: %s", id, strerror(e));
            free(d->path);
            d->path = NULL;
            return EW_ERR_IO;
        }
        d->temporary = true;
    }
    d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->fd < 0) {
        int e = errno;
        ew__error_set(err, EW_ERR_IO, "cannot open the folder %s: %s", d->path, strerror(e));
        ew__r2_dir_close(d);
        return EW_ERR_IO;
    }
    return EW_OK;
}

void ew__r2_dir_close(ew__r2_dir_t *d)
{
    if (d->fd >= 0)
        close(d->fd);
    if (d->temporary && d->path != NULL)
        remove_tree(d->path);
    free(d->path);
    memset(d, 0, sizeof(*d));
    d->fd = -1;
}

static bool is_blob_name(const char *s)
{
    size_t n = strlen(s);
    if (n != EW__R2_ID_HEX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

void ew__r2_blob_sweep(ew__r2_dir_t *d, bool (*referenced)(void *udata, const char *name), void *udata)
{
    DIR *dir = fdopendir(dup(d->fd));
    if (dir == NULL)
        return;
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        bool tmp = strncmp(e->d_name, ".tmp-", 5) == 0;
        if (!tmp && !is_blob_name(e->d_name))
            continue; /* not ours */
        struct stat sb;
        if (fstatat(d->fd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || now - sb.st_mtime < SWEEP_AGE_S)
            continue;
        if (tmp || !referenced(udata, e->d_name))
            unlinkat(d->fd, e->d_name, 0);
    }
    closedir(dir);
}

/* ---------------------------------------------------------------------------------------------------------
 * Writing
 */

/* The message scripts see (through "<op>: ..."): what failed and why, not where (the host's paths stay
 * out of Worker-visible errors), in R2's internal-error words. */
static ew_status_t io_error(ew_error_t *err, const char *what, const char *path, int e)
{
    (void) path;
    return ew__error_set(err, EW_ERR_IO, "We encountered an internal error. Please try again. (10001) (%s the "
                                         "bucket's storage: %s)", what, strerror(e));
}

ew_status_t ew__r2_blob_begin(ew__r2_dir_t *d, ew__r2_writer_t *w, unsigned hashes, ew_error_t *err)
{
    memset(w, 0, sizeof(*w));
    w->fd = -1;
    ew__r2_random_hex(w->name, EW__R2_ID_HEX / 2);
    snprintf(w->tmp, sizeof(w->tmp), ".tmp-%s", w->name);
    if (!ew__r2_hash_start(&w->hash, hashes))
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory hashing an R2 body");
    w->fd = openat(d->fd, w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        int e = errno;
        ew__r2_hash_dispose(&w->hash);
        return io_error(err, "cannot create a file in", d->path, e);
    }
    return EW_OK;
}

ew_status_t ew__r2_blob_write(ew__r2_dir_t *d, ew__r2_writer_t *w, const void *p, size_t n, ew_error_t *err)
{
    ew__r2_hash_update(&w->hash, p, n);
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(w->fd, c, n > (1u << 30) ? (1u << 30) : n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return io_error(err, "cannot write a file in", d->path, k < 0 ? errno : EIO);
        c += k;
        n -= (size_t) k;
        w->size += (uint64_t) k;
    }
    return EW_OK;
}

ew_status_t ew__r2_blob_commit(ew__r2_dir_t *d, ew__r2_writer_t *w, ew_error_t *err)
{
    ew__r2_hash_finish(&w->hash);
    int rc = fsync(w->fd);
    int e = errno;
    close(w->fd);
    w->fd = -1;
    if (rc != 0) {
        unlinkat(d->fd, w->tmp, 0);
        return io_error(err, "cannot sync a file in", d->path, e);
    }
    if (renameat(d->fd, w->tmp, d->fd, w->name) != 0) {
        e = errno;
        unlinkat(d->fd, w->tmp, 0);
        return io_error(err, "cannot rename a file in", d->path, e);
    }
    (void) fsync(d->fd); /* the new name is durable before the row that names it commits */
    return EW_OK;
}

void ew__r2_blob_abort(ew__r2_dir_t *d, ew__r2_writer_t *w)
{
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
        ew__r2_hash_dispose(&w->hash);
    }
    unlinkat(d->fd, w->tmp, 0);
}

void ew__r2_blob_unlink(ew__r2_dir_t *d, const char *name)
{
    if (name != NULL && is_blob_name(name))
        unlinkat(d->fd, name, 0);
}

ew_status_t ew__r2_blob_append_file(ew__r2_dir_t *d, ew__r2_writer_t *w, const char *name, ew_error_t *err)
{
    int fd = openat(d->fd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_error(err, "cannot open a part in", d->path, errno);
    char *buf = malloc(COPY_CHUNK);
    ew_status_t st = buf != NULL ? EW_OK : ew__error_set(err, EW_ERR_NOMEM, "out of memory copying a part");
    while (st == EW_OK) {
        ssize_t k = read(fd, buf, COPY_CHUNK);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            st = io_error(err, "cannot read a part in", d->path, errno);
        if (k <= 0)
            break;
        st = ew__r2_blob_write(d, w, buf, (size_t) k, err);
    }
    free(buf);
    close(fd);
    return st;
}

/* ---------------------------------------------------------------------------------------------------------
 * Reading
 */

int ew__r2_blob_open(ew__r2_dir_t *d, const char *name)
{
    return openat(d->fd, name, O_RDONLY | O_CLOEXEC);
}

bool ew__r2_blob_pread(int fd, void *out, size_t n, uint64_t offset)
{
    char *p = out;
    while (n > 0) {
        ssize_t k = pread(fd, p, n, (off_t) offset);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t) k;
        offset += (uint64_t) k;
    }
    return true;
}
