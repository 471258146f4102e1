/* A stand-in for Windows' bcryptprimitives.dll, for running sigaudit.exe
 * under Wine 8 (Debian 12), which lacks it: Rust's standard library
 * imports ProcessPrng from it for its random numbers (HashMap keys).
 * ProcessPrng fills a buffer from the system's generator; so does
 * advapi32's SystemFunction036 (RtlGenRandom), which Wine has.
 * Only for testing under Wine: real Windows ships the real DLL. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    /* RtlGenRandom takes a 32-bit length: fill larger buffers in pieces. */
    while (length > 0) {
        ULONG piece = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, piece))
            return FALSE;
        data += piece;
        length -= piece;
    }
    return TRUE;
}
