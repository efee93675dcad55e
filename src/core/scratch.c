#include "core/scratch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Before each block: how it was had, so that free needs only the
 * pointer.  Its size keeps the array aligned for any element. */
typedef union scratch_head {
    struct {
        size_t len; /* of the mapping, header included; 0: malloc'd */
    } s;
    max_align_t align;
} scratch_head;

const char *em_temp_dir(void)
{
    const char *dir = getenv("TMPDIR");
    return dir && *dir ? dir : "/tmp";
}

int em_temp_fd(const char *prefix, char *name)
{
    snprintf(name, 4096, "%s/%s-XXXXXX", em_temp_dir(), prefix);
    int fd = mkstemp(name);
    if (fd >= 0)
        unlink(name);
    return fd;
}

static void *map_temporary(size_t len)
{
    char name[4096];
    int fd = em_temp_fd("emfit-scratch", name);
    if (fd < 0)
        return NULL;
    void *p = ftruncate(fd, (off_t)len) == 0
                  ? mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                  : MAP_FAILED;
    close(fd);
    return p == MAP_FAILED ? NULL : p;
}

void *em_row_scratch(const em_table *t, size_t count, size_t size)
{
    if (count == 0)
        count = 1;
    if (size == 0 || count > (SIZE_MAX - sizeof(scratch_head)) / size)
        return NULL;
    size_t len = sizeof(scratch_head) + count * size;
    scratch_head *h = t->map ? map_temporary(len) : malloc(len);
    if (!h)
        return NULL;
    h->s.len = t->map ? len : 0;
    return h + 1;
}

void em_row_scratch_free(void *p)
{
    if (!p)
        return;
    scratch_head *h = (scratch_head *)p - 1;
    if (h->s.len)
        munmap(h, h->s.len);
    else
        free(h);
}
