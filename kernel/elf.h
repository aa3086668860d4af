/*
 * ELF64 images for exec (kernel/elf.c): reading and checking the headers of a RISC-V executable
 * or interpreter, and mapping its PT_LOAD segments into a new address space as Linux's
 * binfmt_elf does (file-backed private mappings, zeroed tail of the last file page, anonymous bss).
 */
#ifndef KERNEL_ELF_H
#define KERNEL_ELF_H
#include "kernel/types.h"

#define EI_NIDENT 16
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define ET_DYN 3
#define EM_RISCV 243
#define PT_LOAD 1
#define PT_INTERP 3
#define PT_PHDR 6
#define PT_TLS 7
#define PT_GNU_STACK 0x6474e551
#define PF_X 1
#define PF_W 2
#define PF_R 4

/* Linux's limits (fs/binfmt_elf.c): the program headers fit in one page; an interpreter path is
 * between 2 bytes and PATH_MAX (NUL included). */
#define ELF_PHDRS_MAX_BYTES 4096
#define ELF_INTERP_PATH_MAX 4096

struct elf64_ehdr {
	uint8_t ident[EI_NIDENT];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct file;
struct mm;

/* An ELF file whose headers were read and checked: the program headers are kmalloc'ed. */
struct elf_file {
	struct file *file;            /* borrowed */
	struct elf64_ehdr eh;
	struct elf64_phdr *ph;        /* eh.phnum entries */
};

/* Where an image landed. */
struct elf_image {
	uintptr_t bias;               /* load address minus link address (0 for ET_EXEC) */
	uintptr_t entry;              /* eh.entry + bias */
	uintptr_t phdr;               /* user address of the program headers (0: not loaded) */
	uintptr_t end;                /* end of the highest segment's memory (brk starts here) */
};

/* True when the first bytes (at least 4) start an ELF file. */
bool elf_magic(const void *buf, size_t n);
/* Reads and checks the ELF header and program headers of f (ET_EXEC or ET_DYN, ELF64, little
 * endian, RISC-V, phentsize and phnum as Linux accepts). 0, or -ENOEXEC (also for a short file:
 * Linux's load_elf_phdrs fails the same way), -ENOMEM. */
int elf_read(struct file *f, struct elf_file *ef);
void elf_release(struct elf_file *ef);
/* Program header of the given type, or NULL. */
const struct elf64_phdr *elf_find(const struct elf_file *ef, uint32_t type);

/* Map every PT_LOAD of ef into mm. ET_EXEC goes at its link addresses. ET_DYN goes at pie_base
 * when that is nonzero (rounded up to the largest p_align), else at a free range the mmap area
 * chooses (the interpreter, and Linux's place for it). 0 or -errno: -ENOEXEC for segments that
 * contradict themselves (filesz > memsz, offset not congruent to vaddr), -ENOMEM when the image
 * does not fit in the user address space or memory runs out, -EFAULT when the loader cannot zero
 * the tail of a segment's last file page. */
int elf_map(struct mm *mm, const struct elf_file *ef, uintptr_t pie_base, struct elf_image *out);

#endif
