/* uefi/file.c - whole-file read/write on the volume the app was loaded from,
 * and page allocation. It must never write outside the file it was given. */
#include "efi_app.h"

#define EFI_PATH_MAX	256

static EFI_GUID efi_loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static EFI_GUID efi_sfs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
static EFI_GUID efi_file_info_guid = EFI_FILE_INFO_ID;

void *efi_pages_alloc(uint64_t len)
{
	EFI_PHYSICAL_ADDRESS a = 0;
	UINTN pages = (UINTN)((len + 4095) / 4096);

	if (pages == 0)
		pages = 1;
	if (efi_st->BootServices->AllocatePages(AllocateAnyPages, EfiLoaderData,
						pages, &a) != EFI_SUCCESS)
		return NULL;
	return (void *)(uintptr_t)a;
}

void efi_pages_free(void *p, uint64_t len)
{
	UINTN pages = (UINTN)((len + 4095) / 4096);

	if (p)
		efi_st->BootServices->FreePages((EFI_PHYSICAL_ADDRESS)(uintptr_t)p,
						pages ? pages : 1);
}

/* ASCII path -> UCS-2 with '\' separators; "fsN:" prefixes dropped, since
 * paths always start at the root of the app's own volume. */
static bool efi_path16(const char *path, CHAR16 *out)
{
	size_t i = 0, n = 0;

	for (size_t k = 0; path[k] && k < EFI_PATH_MAX; k++) {
		if (path[k] == ':') {
			i = k + 1;
			break;
		}
	}
	if (path[i] != '/' && path[i] != '\\')
		out[n++] = '\\';
	for (; path[i]; i++) {
		if (n + 1 >= EFI_PATH_MAX)
			return false;
		out[n++] = path[i] == '/' ? '\\' : (unsigned char)path[i];
	}
	out[n] = 0;
	return true;
}

static EFI_STATUS efi_open(const char *path, UINT64 mode, EFI_FILE_HANDLE *f)
{
	EFI_BOOT_SERVICES *bs = efi_st->BootServices;
	EFI_LOADED_IMAGE *li = NULL;
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs = NULL;
	EFI_FILE_HANDLE root = NULL;
	CHAR16 p16[EFI_PATH_MAX];
	EFI_STATUS st;

	if (!efi_path16(path, p16))
		return EFI_INVALID_PARAMETER;
	st = bs->HandleProtocol(efi_image, &efi_loaded_image_guid, (void **)&li);
	if (st != EFI_SUCCESS)
		return st;
	st = bs->HandleProtocol(li->DeviceHandle, &efi_sfs_guid, (void **)&fs);
	if (st != EFI_SUCCESS)
		return st;
	st = fs->OpenVolume(fs, &root);
	if (st != EFI_SUCCESS)
		return st;
	st = root->Open(root, f, p16, mode, 0);
	root->Close(root);
	return st;
}

EFI_STATUS efi_file_read(const char *path, void **buf, uint64_t *len, uint64_t max)
{
	EFI_FILE_HANDLE f;
	/* EFI_FILE_INFO is followed by the file name: room for a long one. */
	union {
		EFI_FILE_INFO info;
		uint8_t raw[sizeof(EFI_FILE_INFO) + 2 * EFI_PATH_MAX];
	} info;
	UINTN isz = sizeof(info);
	EFI_STATUS st;
	uint64_t size, done = 0;
	uint8_t *p;

	*buf = NULL;
	*len = 0;
	st = efi_open(path, EFI_FILE_MODE_READ, &f);
	if (st != EFI_SUCCESS)
		return st;
	st = f->GetInfo(f, &efi_file_info_guid, &isz, &info);
	if (st != EFI_SUCCESS)
		goto out;
	size = info.info.FileSize;
	if (size > max) {
		st = EFI_BAD_BUFFER_SIZE;
		goto out;
	}
	p = efi_pages_alloc(size);
	if (!p) {
		st = EFI_OUT_OF_RESOURCES;
		goto out;
	}
	/* Read may return less than asked: loop, bounded by the size. */
	while (done < size) {
		UINTN n = (UINTN)(size - done);

		st = f->Read(f, &n, p + done);
		if (st != EFI_SUCCESS || n == 0) {
			if (st == EFI_SUCCESS)
				st = EFI_END_OF_FILE;
			efi_pages_free(p, size);
			goto out;
		}
		done += n;
	}
	*buf = p;
	*len = size;
out:
	f->Close(f);
	return st;
}

EFI_STATUS efi_file_write(const char *path, const void *buf, uint64_t len)
{
	EFI_FILE_HANDLE f;
	EFI_STATUS st;
	UINTN n;

	/* Create-or-open, then drop old contents by deleting and recreating:
	 * SetInfo on FileSize is not supported by every FAT driver. */
	st = efi_open(path, EFI_FILE_MODE_READ | EFI_FILE_MODE_WRITE, &f);
	if (st == EFI_SUCCESS)
		f->Delete(f);	/* closes f; a failure leaves the old file */
	st = efi_open(path, EFI_FILE_MODE_READ | EFI_FILE_MODE_WRITE | EFI_FILE_MODE_CREATE, &f);
	if (st != EFI_SUCCESS)
		return st;
	n = (UINTN)len;
	st = f->Write(f, &n, (void *)buf);
	if (st == EFI_SUCCESS && n != len)
		st = EFI_VOLUME_FULL;
	if (st == EFI_SUCCESS)
		st = f->Flush(f);
	f->Close(f);
	return st;
}
