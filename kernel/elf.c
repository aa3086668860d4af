/*
 * ELF64 loading for exec: headers and PT_LOAD segments, as Linux's fs/binfmt_elf.c does it.
 *
 * Theory. A segment [p_vaddr, p_vaddr + p_memsz) is backed by the file for its first p_filesz
 * bytes and by zeroes after that. Like Linux we map the file pages that hold the first part as a
 * private file mapping (pages are copied from the file when first touched, so nothing is read at
 * exec time beyond the headers), zero the tail of the last file page past p_filesz (those bytes
 * in the file belong to whatever follows the segment), and map the rest of p_memsz as anonymous
 * memory. This needs p_offset and p_vaddr congruent modulo the page size, which every linker
 * produces and Linux requires too (its mmap would fail).
 *
 * ET_EXEC images go at their link addresses. ET_DYN images (PIE programs, the dynamic loader) are
 * position independent: the whole span from the lowest to the highest segment is placed at one
 * bias. The caller picks the bias for a PIE main program (kernel/exec.c explains the layout); an
 * interpreter goes where the mmap area finds room: its span is first reserved as one PROT_NONE
 * mapping, then each segment is mapped over it, so the holes between segments stay reserved and
 * nothing else is placed in them (the same trick glibc's loader plays for shared libraries).
 *
 * Context: process context of the exec'ing thread, may sleep (file reads); the mm being filled is
 * not active anywhere yet, so nothing else touches it.
 */
#include "kernel/elf.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "mm/mm.h"
#include "mm/uaccess.h"
#include "mm/uvm.h"
#include "lib/string.h"
#include "fs/fs.h"

#define ZERO_CHUNK 256

bool elf_magic(const void *buf, size_t n)
{
	return n >= 4 && memcmp(buf, "\177ELF", 4) == 0;
}

int elf_read(struct file *f, struct elf_file *ef)
{
	memset(ef, 0, sizeof(*ef));
	ef->file = f;
	struct elf64_ehdr *eh = &ef->eh;
	/* A file shorter than the header reads as zeroes past its end, as Linux's bprm buffer does:
	 * the checks below then fail with ENOEXEC. */
	long got = kernel_read(f, eh, sizeof(*eh), 0);
	if (got < 0)
		return -ENOEXEC;
	if ((size_t)got < sizeof(*eh))
		memset((uint8_t *)eh + got, 0, sizeof(*eh) - got);
	if (!elf_magic(eh->ident, sizeof(eh->ident)) || eh->ident[4] != ELFCLASS64 ||
	    eh->ident[5] != ELFDATA2LSB || eh->machine != EM_RISCV ||
	    (eh->type != ET_EXEC && eh->type != ET_DYN))
		return -ENOEXEC;
	size_t size = (size_t)eh->phnum * sizeof(struct elf64_phdr);
	if (eh->phentsize != sizeof(struct elf64_phdr) || size == 0 || size > ELF_PHDRS_MAX_BYTES)
		return -ENOEXEC;
	ef->ph = kmalloc(size);
	if (!ef->ph)
		return -ENOMEM;
	if (kernel_read(f, ef->ph, size, eh->phoff) != (long)size) {
		kfree(ef->ph);
		ef->ph = NULL;
		return -ENOEXEC;
	}
	return 0;
}

void elf_release(struct elf_file *ef)
{
	if (ef->ph)
		kfree(ef->ph);
	ef->ph = NULL;
}

const struct elf64_phdr *elf_find(const struct elf_file *ef, uint32_t type)
{
	for (int i = 0; i < ef->eh.phnum; i++)
		if (ef->ph[i].type == type)
			return &ef->ph[i];
	return NULL;
}

static int prot_of(uint32_t pf)
{
	return (pf & PF_R ? PROT_READ : 0) | (pf & PF_W ? PROT_WRITE : 0) | (pf & PF_X ? PROT_EXEC : 0);
}

/* The page-aligned span [*lo, *hi) of every PT_LOAD and the largest power-of-two alignment.
 * -ENOEXEC for a segment that contradicts itself, -ENOMEM for one beyond any address space. */
static int load_span(const struct elf_file *ef, uintptr_t *lo, uintptr_t *hi, uint64_t *align)
{
	bool any = false;
	*lo = ~(uintptr_t)0;
	*hi = 0;
	*align = PAGE_SIZE;
	for (int i = 0; i < ef->eh.phnum; i++) {
		const struct elf64_phdr *p = &ef->ph[i];
		if (p->type != PT_LOAD)
			continue;
		if (p->filesz > p->memsz || ((p->vaddr - p->offset) & (PAGE_SIZE - 1)))
			return -ENOEXEC;
		if (p->memsz > USER_TOP || p->vaddr > USER_TOP - p->memsz)
			return -ENOMEM;                  /* Linux: "set_brk can never work" */
		if (p->memsz == 0)
			continue;
		any = true;
		*lo = MIN(*lo, ALIGN_DOWN(p->vaddr, PAGE_SIZE));
		*hi = MAX(*hi, ALIGN_UP(p->vaddr + p->memsz, PAGE_SIZE));
		if (p->align > *align && !(p->align & (p->align - 1)) && p->align <= GIGAPAGE_SIZE)
			*align = p->align;
	}
	return any ? 0 : -ENOEXEC;
}

/* Zero user bytes [va, end) of mm (the tail of a segment's last file page). */
static int zero_user(struct mm *mm, uintptr_t va, uintptr_t end)
{
	static const uint8_t zeroes[ZERO_CHUNK];
	while (va < end) {
		size_t n = MIN((size_t)(end - va), sizeof(zeroes));
		if (mm_write(mm, va, zeroes, n) < 0)
			return -EFAULT;
		va += n;
	}
	return 0;
}

static int map_segment(struct mm *mm, const struct elf_file *ef, const struct elf64_phdr *p, uintptr_t bias)
{
	int prot = prot_of(p->flags), r;
	uintptr_t va = p->vaddr + bias;
	uintptr_t start = ALIGN_DOWN(va, PAGE_SIZE);
	uintptr_t file_end = va + p->filesz, mem_end = va + p->memsz;
	uintptr_t file_pages_end = ALIGN_UP(file_end, PAGE_SIZE), mem_pages_end = ALIGN_UP(mem_end, PAGE_SIZE);
	if (p->filesz) {
		uint64_t off = p->offset - (va - start);
		r = mm_map(mm, start, file_pages_end - start, prot, MAP_PRIVATE, ef->file, off >> PAGE_SHIFT);
		if (r < 0)
			return r;
		/* the rest of the last file page is the segment's zeroes (bss), not the file's bytes */
		if (p->memsz > p->filesz && (file_end & (PAGE_SIZE - 1)) && (r = zero_user(mm, file_end, file_pages_end)))
			return r;
	} else {
		file_pages_end = start;
	}
	if (mem_pages_end > file_pages_end) {
		r = mm_map(mm, file_pages_end, mem_pages_end - file_pages_end, prot, MAP_PRIVATE | MAP_ANONYMOUS,
			   NULL, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

int elf_map(struct mm *mm, const struct elf_file *ef, uintptr_t pie_base, struct elf_image *out)
{
	uintptr_t lo, hi, bias = 0;
	uint64_t align;
	int r = load_span(ef, &lo, &hi, &align);
	if (r < 0)
		return r;
	if (ef->eh.type == ET_DYN && pie_base) {
		bias = ALIGN_UP(pie_base, align) - lo;
		if (hi - lo > USER_MMAP_TOP - ALIGN_UP(pie_base, align))
			return -ENOMEM;
	} else if (ef->eh.type == ET_DYN) {
		if (hi - lo > USER_MMAP_TOP)
			return -ENOMEM;
		long at = mm_map_anywhere(mm, hi - lo, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
		if (at < 0)
			return (int)at;
		bias = (uintptr_t)at - lo;
	}
	if (lo + bias < USER_MIN_ADDR || hi + bias > USER_MMAP_TOP || hi + bias < lo + bias)
		return -ENOMEM;
	out->bias = bias;
	out->entry = ef->eh.entry + bias;
	out->phdr = 0;
	out->end = 0;
	for (int i = 0; i < ef->eh.phnum; i++) {
		const struct elf64_phdr *p = &ef->ph[i];
		if (p->type == PT_PHDR)
			out->phdr = p->vaddr + bias;
		if (p->type != PT_LOAD || p->memsz == 0)
			continue;
		if ((r = map_segment(mm, ef, p, bias)) < 0)
			return r;
		/* Linux: the headers' address is where the segment holding file offset e_phoff lands */
		if (!out->phdr && ef->eh.phoff >= p->offset && ef->eh.phoff - p->offset < p->filesz)
			out->phdr = p->vaddr + bias + (ef->eh.phoff - p->offset);
		out->end = MAX(out->end, p->vaddr + bias + p->memsz);
	}
	return 0;
}
