/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM: the SSDT (ACPI 6.5 section 9.19.7, NVDIMM devices).
 *
 * In ASL terms the table is:
 *
 *   Scope (\_SB) {
 *     Device (NVDR) {                      // the NVDIMM root device
 *       Name (_HID, "ACPI0012")
 *       Name (DPGA, <DSM page address>)    // patched by the bios-linker
 *       OperationRegion (DBEL, SystemIO, 0x0a18, 4)     // the doorbell
 *       OperationRegion (DPAG, SystemMemory, DPGA, 4096) // the DSM page
 *       Field (DPAG) { IHDL, IREV, IFUN, IARG }          // in layout
 *       Field (DPAG) { OLEN, ODAT }                      // out layout
 *       Method (SUBB)  sub-buffer helper
 *       Method (DCAL)  one call through the page (the only user of it)
 *       Method (DSMC)  common _DSM: UUID check, argument unpacking
 *       Method (RFIT)  one Read FIT chunk
 *       Method (_DSM), Method (_FIT)
 *       Method (LSIH, LSRH, LSWH)   _LSI/_LSR/_LSW helpers (ACPI 6.5 6.5.10)
 *       Method (NEVT)  health events (only with an NVDIMM-N module)
 *       Device (NVxx) { _ADR = handle; _DSM; _LSI; _LSR; _LSW }  per slot
 *     }
 *   }
 *
 * _DSM arguments (ACPI 6.5 9.1.1): Arg0 UUID, Arg1 revision, Arg2 function,
 * Arg3 package whose first element is the function's input buffer.  The
 * UUID is checked here (the page does not carry it); revision, handle and
 * function are checked by QEMU (nvdimm-dsm.c).
 */
#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/bswap.h"
#include "hw/acpi/aml-build.h"
#include "hw/acpi/bios-linker-loader.h"
#include "hw/mem/nvdimm.h"
#include "nvdimm-internal.h"

#define NVDIMM_SSDT_TABLE_ID "NVDIMM"
#define NVDIMM_SSDT_REVISION 2          /* 64-bit AML integers */
#define NVDIMM_ROOT_HID "ACPI0012"      /* ACPI 6.5 Table 5.170 (PnP IDs) */
#define NVDIMM_ROOT_PATH "\\_SB.NVDR"

/* ObjectType() results (ACPI 6.5 19.6.96). */
enum {
    AML_OBJECT_TYPE_BUFFER = 3,
    AML_OBJECT_TYPE_PACKAGE = 4,
};

/* AML encoding bytes (ACPI 6.5 20.2.5.1, 20.2.3, 20.2.2). */
enum {
    AML_NAME_OP = 0x08,
    AML_DWORD_PREFIX = 0x0c,
    AML_NAME_SEG_LEN = 4,
};

/* Buffer fields longer than an AML integer read as a Buffer. */
#define AML_INTEGER_BYTES 8

#define BITS_PER_BYTE_SHIFT 3

/* The DSM page address placeholder, replaced by the linker. */
#define NVDIMM_PAGE_ADDR_NAME "DPGA"
#define NVDIMM_PAGE_ADDR_PLACEHOLDER UINT32_MAX

static Aml *nvdimm_aml_status_buffer(NvdimmDsmStatus status)
{
    uint8_t bytes[sizeof(NvdimmDsmStatusOut)];

    stl_le_p(bytes, status);
    return aml_buffer(sizeof(bytes), bytes);
}

/*
 * SUBB (Buffer, Offset, Length): a new Buffer of Length bytes of Buffer
 * from Offset.  Long slices are read through a buffer field; short ones
 * byte by byte, because a short buffer field reads as an Integer.
 */
static Aml *nvdimm_aml_subbuffer_method(void)
{
    Aml *method = aml_method("SUBB", 3, AML_SERIALIZED);
    Aml *src = aml_arg(0), *off = aml_arg(1), *len = aml_arg(2);
    Aml *result = aml_local(0), *i = aml_local(1), *byte = aml_local(2);
    Aml *ifctx, *loop;

    aml_append(method, aml_store(aml_buffer(0, NULL), result));
    ifctx = aml_if(aml_lgreater(len, aml_int(AML_INTEGER_BYTES)));
    aml_append(ifctx, aml_create_field(src,
        aml_shiftleft(off, aml_int(BITS_PER_BYTE_SHIFT)),
        aml_shiftleft(len, aml_int(BITS_PER_BYTE_SHIFT)), "SUBF"));
    aml_append(ifctx, aml_store(aml_name("SUBF"), result));
    aml_append(ifctx, aml_return(result));
    aml_append(method, ifctx);

    aml_append(method, aml_store(aml_int(0), i));
    loop = aml_while(aml_lless(i, len));
    aml_append(loop, aml_store(aml_buffer(1, NULL), byte));
    aml_append(loop, aml_store(
        aml_derefof(aml_index(src, aml_add(off, i, NULL))),
        aml_index(byte, aml_int(0))));
    aml_append(loop, aml_concatenate(result, byte, result));
    aml_append(loop, aml_increment(i));
    aml_append(method, loop);
    aml_append(method, aml_return(result));
    return method;
}

/*
 * DCAL (Handle, Revision, Function, Input): one call through the DSM page;
 * returns the output data (status first).  Serialized: it alone touches
 * the page.
 */
static Aml *nvdimm_aml_call_method(void)
{
    Aml *method = aml_method("DCAL", 4, AML_SERIALIZED);
    Aml *len = aml_local(0), *data = aml_local(1);
    Aml *ifctx;

    aml_append(method, aml_store(aml_arg(0), aml_name("IHDL")));
    aml_append(method, aml_store(aml_arg(1), aml_name("IREV")));
    aml_append(method, aml_store(aml_arg(2), aml_name("IFUN")));
    aml_append(method, aml_store(aml_arg(3), aml_name("IARG")));
    /* the doorbell: QEMU serves the call during this write */
    aml_append(method, aml_store(aml_name(NVDIMM_PAGE_ADDR_NAME),
                                 aml_name("DBRG")));

    aml_append(method, aml_store(aml_name("OLEN"), len));
    ifctx = aml_if(aml_lor(
        aml_lless(len, aml_int(sizeof(uint32_t) + sizeof(NvdimmDsmStatusOut))),
        aml_lgreater(len, aml_int(NVDIMM_DSM_PAGE_SIZE))));
    aml_append(ifctx, aml_return(
        nvdimm_aml_status_buffer(NVDIMM_DSM_STATUS_UNKNOWN)));
    aml_append(method, ifctx);

    aml_append(method, aml_store(aml_name("ODAT"), data));
    aml_append(method, aml_return(aml_call3("SUBB", data, aml_int(0),
        aml_subtract(len, aml_int(sizeof(uint32_t)), NULL))));
    return method;
}

/* STAT (Reply): the status dword a reply starts with. */
static Aml *nvdimm_aml_status_method(void)
{
    Aml *method = aml_method("STAT", 1, AML_SERIALIZED);

    aml_append(method, aml_create_dword_field(aml_arg(0), aml_int(0), "RSTS"));
    aml_append(method, aml_return(aml_name("RSTS")));
    return method;
}

/*
 * DSMC (UUID, Handle, Arg0..Arg3 of the caller's _DSM): check the UUID,
 * take the input buffer out of the argument package, and call.
 */
static Aml *nvdimm_aml_dsm_common_method(void)
{
    Aml *method = aml_method("DSMC", 6, AML_SERIALIZED);
    Aml *uuid = aml_arg(0), *handle = aml_arg(1);
    Aml *dsm_uuid = aml_arg(2), *rev = aml_arg(3), *fn = aml_arg(4);
    Aml *pkg = aml_arg(5), *input = aml_local(0), *elem = aml_local(1);
    Aml *ifctx, *ifpkg, *ifbuf;

    /* ACPI 9.1.1: function 0 of an unknown UUID returns a zero bitmap */
    ifctx = aml_if(aml_lnot(aml_equal(dsm_uuid, uuid)));
    {
        uint8_t none = 0;
        Aml *iffn0 = aml_if(aml_equal(fn, aml_int(NVDIMM_DSM_FN_QUERY)));

        aml_append(iffn0, aml_return(aml_buffer(sizeof(none), &none)));
        aml_append(ifctx, iffn0);
        aml_append(ifctx, aml_return(
            nvdimm_aml_status_buffer(NVDIMM_DSM_STATUS_UNSUPPORTED)));
    }
    aml_append(method, ifctx);

    /* the input: first element of the package if it is a Buffer */
    aml_append(method, aml_store(aml_buffer(1, NULL), input));
    ifpkg = aml_if(aml_equal(aml_object_type(pkg),
                             aml_int(AML_OBJECT_TYPE_PACKAGE)));
    {
        Aml *ifsize = aml_if(aml_lgreater(aml_sizeof(pkg), aml_int(0)));

        aml_append(ifsize, aml_store(aml_derefof(aml_index(pkg, aml_int(0))),
                                     elem));
        ifbuf = aml_if(aml_equal(aml_object_type(elem),
                                 aml_int(AML_OBJECT_TYPE_BUFFER)));
        aml_append(ifbuf, aml_store(elem, input));
        aml_append(ifsize, ifbuf);
        aml_append(ifpkg, ifsize);
    }
    aml_append(method, ifpkg);
    aml_append(method, aml_return(aml_call4("DCAL", handle, rev, fn, input)));
    return method;
}

/* RFIT (Offset): one Read FIT chunk, status first. */
static Aml *nvdimm_aml_read_fit_method(void)
{
    Aml *method = aml_method("RFIT", 1, AML_SERIALIZED);
    Aml *input = aml_local(0);

    aml_append(method, aml_store(aml_buffer(sizeof(NvdimmDsmReadFitIn),
                                            NULL), input));
    aml_append(method, aml_create_dword_field(input,
        aml_int(offsetof(NvdimmDsmReadFitIn, offset)), "FOFF"));
    aml_append(method, aml_store(aml_arg(0), aml_name("FOFF")));
    aml_append(method, aml_return(aml_call4("DCAL",
        aml_int(NVDIMM_HANDLE_QEMU_ROOT), aml_int(NVDIMM_DSM_REVISION),
        aml_int(NVDIMM_DSM_FN_READ_FIT), input)));
    return method;
}

/*
 * _FIT: the whole FIT, read chunk by chunk; starts over when QEMU says the
 * FIT changed (a hot-plug) since the read began.  An error gives an empty
 * buffer.
 */
static Aml *nvdimm_aml_fit_method(void)
{
    Aml *method = aml_method("_FIT", 0, AML_SERIALIZED);
    Aml *fit = aml_local(0), *off = aml_local(1), *chunk = aml_local(2);
    Aml *status = aml_local(3), *len = aml_local(4);
    Aml *loop, *ifchanged, *elsectx, *iferr, *ifdone;

    aml_append(method, aml_store(aml_buffer(0, NULL), fit));
    aml_append(method, aml_store(aml_int(0), off));
    loop = aml_while(aml_int(1));
    aml_append(loop, aml_store(aml_call1("RFIT", off), chunk));
    aml_append(loop, aml_store(aml_call1("STAT", chunk), status));

    ifchanged = aml_if(aml_equal(status,
                                 aml_int(NVDIMM_DSM_STATUS_FIT_CHANGED)));
    aml_append(ifchanged, aml_store(aml_buffer(0, NULL), fit));
    aml_append(ifchanged, aml_store(aml_int(0), off));
    aml_append(loop, ifchanged);

    elsectx = aml_else();
    iferr = aml_if(aml_lnot(aml_equal(status,
                                      aml_int(NVDIMM_DSM_STATUS_SUCCESS))));
    aml_append(iferr, aml_return(aml_buffer(0, NULL)));
    aml_append(elsectx, iferr);
    aml_append(elsectx, aml_store(aml_subtract(aml_sizeof(chunk),
        aml_int(sizeof(NvdimmDsmReadFitOut)), NULL), len));
    ifdone = aml_if(aml_equal(len, aml_int(0)));
    aml_append(ifdone, aml_return(fit));
    aml_append(elsectx, ifdone);
    aml_append(elsectx, aml_concatenate(fit, aml_call3("SUBB", chunk,
        aml_int(sizeof(NvdimmDsmReadFitOut)), len), fit));
    aml_append(elsectx, aml_add(off, len, off));
    aml_append(loop, elsectx);

    aml_append(method, loop);
    return method;
}

/* LSIH (Handle): _LSI, Package {Status, Size, Max Transfer} (ACPI 6.5.10). */
static Aml *nvdimm_aml_lsi_method(void)
{
    Aml *method = aml_method("LSIH", 1, AML_SERIALIZED);
    Aml *reply = aml_local(0), *pkg = aml_local(1);
    Aml *ifok;

    aml_append(method, aml_store(aml_call4("DCAL", aml_arg(0),
        aml_int(NVDIMM_DSM_REVISION), aml_int(NVDIMM_DSM_FN_GET_LABEL_SIZE),
        aml_buffer(1, NULL)), reply));
    aml_append(method, aml_store(aml_package(3), pkg));
    aml_append(method, aml_store(aml_call1("STAT", reply),
                                 aml_index(pkg, aml_int(0))));
    aml_append(method, aml_store(aml_int(0), aml_index(pkg, aml_int(1))));
    aml_append(method, aml_store(aml_int(0), aml_index(pkg, aml_int(2))));
    ifok = aml_if(aml_equal(aml_sizeof(reply),
                            aml_int(sizeof(NvdimmDsmLabelSizeOut))));
    aml_append(ifok, aml_create_dword_field(reply,
        aml_int(offsetof(NvdimmDsmLabelSizeOut, label_size)), "LSIZ"));
    aml_append(ifok, aml_create_dword_field(reply,
        aml_int(offsetof(NvdimmDsmLabelSizeOut, max_xfer)), "LMXT"));
    aml_append(ifok, aml_store(aml_name("LSIZ"), aml_index(pkg, aml_int(1))));
    aml_append(ifok, aml_store(aml_name("LMXT"), aml_index(pkg, aml_int(2))));
    aml_append(method, ifok);
    aml_append(method, aml_return(pkg));
    return method;
}

/* Input header of the label functions, in Local0: {Offset, Length}. */
static void nvdimm_aml_label_input(Aml *method, Aml *offset, Aml *length)
{
    Aml *input = aml_local(0);

    aml_append(method, aml_store(aml_buffer(sizeof(NvdimmDsmLabelIn), NULL),
                                 input));
    aml_append(method, aml_create_dword_field(input,
        aml_int(offsetof(NvdimmDsmLabelIn, offset)), "LOFF"));
    aml_append(method, aml_create_dword_field(input,
        aml_int(offsetof(NvdimmDsmLabelIn, length)), "LLEN"));
    aml_append(method, aml_store(offset, aml_name("LOFF")));
    aml_append(method, aml_store(length, aml_name("LLEN")));
}

/* LSRH (Handle, Offset, Length): _LSR, Package {Status, Buffer}. */
static Aml *nvdimm_aml_lsr_method(void)
{
    Aml *method = aml_method("LSRH", 3, AML_SERIALIZED);
    Aml *reply = aml_local(1), *pkg = aml_local(2);
    const size_t hdr = sizeof(NvdimmDsmLabelDataOut);

    nvdimm_aml_label_input(method, aml_arg(1), aml_arg(2));
    aml_append(method, aml_store(aml_call4("DCAL", aml_arg(0),
        aml_int(NVDIMM_DSM_REVISION), aml_int(NVDIMM_DSM_FN_GET_LABEL_DATA),
        aml_local(0)), reply));
    aml_append(method, aml_store(aml_package(2), pkg));
    aml_append(method, aml_store(aml_call1("STAT", reply),
                                 aml_index(pkg, aml_int(0))));
    aml_append(method, aml_store(aml_call3("SUBB", reply, aml_int(hdr),
        aml_subtract(aml_sizeof(reply), aml_int(hdr), NULL)),
        aml_index(pkg, aml_int(1))));
    aml_append(method, aml_return(pkg));
    return method;
}

/* LSWH (Handle, Offset, Length, Data): _LSW, Integer status. */
static Aml *nvdimm_aml_lsw_method(void)
{
    Aml *method = aml_method("LSWH", 4, AML_SERIALIZED);
    Aml *input = aml_local(1);

    nvdimm_aml_label_input(method, aml_arg(1), aml_arg(2));
    aml_append(method, aml_concatenate(aml_local(0), aml_arg(3), input));
    aml_append(method, aml_return(aml_call1("STAT", aml_call4("DCAL",
        aml_arg(0), aml_int(NVDIMM_DSM_REVISION),
        aml_int(NVDIMM_DSM_FN_SET_LABEL_DATA), input))));
    return method;
}

/* Method (_DSM, 4) { Return (DSMC (ToUUID (uuid), handle, Arg0..Arg3)) } */
static Aml *nvdimm_aml_dsm_method(const char *dsmc, const char *uuid,
                                  uint32_t handle)
{
    Aml *method = aml_method("_DSM", 4, AML_NOTSERIALIZED);

    aml_append(method, aml_return(aml_call6(dsmc, aml_touuid(uuid),
        aml_int(handle), aml_arg(0), aml_arg(1), aml_arg(2), aml_arg(3))));
    return method;
}

/*
 * NEVT: called by the DSDT's NVDIMM GPE handler (_E04).  Asks QEMU which
 * DIMMs have a pending health event (QEMU root function 2; the answer
 * clears them) and sends each Notify (NVxx, 0x81).  Notify needs a named
 * target, hence one test per slot.  Then, when the root has new poison to
 * report, Notify (NVDR, 0x81).  (The root flag is the low bit of a dword:
 * testing its first byte is enough.)
 */
static Aml *nvdimm_aml_health_events_method(uint32_t ram_slots)
{
    Aml *method = aml_method("NEVT", 0, AML_SERIALIZED);
    Aml *reply = aml_local(0);
    const size_t slots = offsetof(NvdimmDsmHealthEventsOut, slots);
    const size_t root = offsetof(NvdimmDsmHealthEventsOut, root);
    Aml *ifbad, *ifroot;

    aml_append(method, aml_store(aml_call4("DCAL",
        aml_int(NVDIMM_HANDLE_QEMU_ROOT), aml_int(NVDIMM_DSM_REVISION),
        aml_int(NVDIMM_DSM_FN_HEALTH_EVENTS), aml_buffer(1, NULL)), reply));
    ifbad = aml_if(aml_lor(
        aml_lnot(aml_equal(aml_call1("STAT", reply),
                           aml_int(NVDIMM_DSM_STATUS_SUCCESS))),
        aml_lless(aml_sizeof(reply),
                  aml_int(sizeof(NvdimmDsmHealthEventsOut)))));
    aml_append(ifbad, aml_return(aml_int(0)));
    aml_append(method, ifbad);

    for (uint32_t slot = 0; slot < ram_slots; slot++) {
        Aml *ifset = aml_if(aml_and(
            aml_derefof(aml_index(reply,
                                  aml_int(slots + slot / BITS_PER_BYTE))),
            aml_int(1u << (slot % BITS_PER_BYTE)), NULL));

        aml_append(ifset, aml_notify(aml_name("NV%02" PRIX32, slot),
                                     aml_int(NVDIMM_NOTIFY_HEALTH)));
        aml_append(method, ifset);
    }
    ifroot = aml_if(aml_and(
        aml_derefof(aml_index(reply, aml_int(root))),
        aml_int(NVDIMM_EVENT_ROOT_UC_ERROR), NULL));
    aml_append(ifroot, aml_notify(aml_name(NVDIMM_ROOT_PATH),
                                  aml_int(NVDIMM_NOTIFY_UC_ERROR)));
    aml_append(method, ifroot);
    aml_append(method, aml_return(aml_int(0)));
    return method;
}

static Aml *nvdimm_aml_dimm_device(uint32_t slot)
{
    uint32_t handle = nvdimm_slot_to_handle(slot);
    Aml *dev = aml_device("NV%02" PRIX32, slot);
    Aml *method;

    aml_append(dev, aml_name_decl("_ADR", aml_int(handle)));
    aml_append(dev, nvdimm_aml_dsm_method(NVDIMM_ROOT_PATH ".DSMC",
                                          NVDIMM_DSM_UUID_INTEL, handle));

    method = aml_method("_LSI", 0, AML_NOTSERIALIZED);
    aml_append(method, aml_return(aml_call1(NVDIMM_ROOT_PATH ".LSIH",
                                            aml_int(handle))));
    aml_append(dev, method);

    method = aml_method("_LSR", 2, AML_NOTSERIALIZED);
    aml_append(method, aml_return(aml_call3(NVDIMM_ROOT_PATH ".LSRH",
        aml_int(handle), aml_arg(0), aml_arg(1))));
    aml_append(dev, method);

    method = aml_method("_LSW", 3, AML_NOTSERIALIZED);
    aml_append(method, aml_return(aml_call4(NVDIMM_ROOT_PATH ".LSWH",
        aml_int(handle), aml_arg(0), aml_arg(1), aml_arg(2))));
    aml_append(dev, method);
    return dev;
}

static Aml *nvdimm_aml_root_device(const struct AcpiGenericAddress *dsm_io,
                                   uint32_t ram_slots, bool health_events)
{
    Aml *dev = aml_device("NVDR");
    Aml *field;

    aml_append(dev, aml_name_decl("_HID", aml_string(NVDIMM_ROOT_HID)));
    /* a DWordConst, so that the linker can patch it in place */
    aml_append(dev, aml_name_decl(NVDIMM_PAGE_ADDR_NAME,
                                  aml_int(NVDIMM_PAGE_ADDR_PLACEHOLDER)));

    aml_append(dev, aml_operation_region("DBEL", dsm_io->space_id,
                                         aml_int(dsm_io->address),
                                         dsm_io->bit_width >> 3));
    field = aml_field("DBEL", AML_DWORD_ACC, AML_NOLOCK, AML_PRESERVE);
    aml_append(field, aml_named_field("DBRG", dsm_io->bit_width));
    aml_append(dev, field);

    aml_append(dev, aml_operation_region("DPAG", AML_SYSTEM_MEMORY,
                                         aml_name(NVDIMM_PAGE_ADDR_NAME),
                                         NVDIMM_DSM_PAGE_SIZE));
    field = aml_field("DPAG", AML_DWORD_ACC, AML_NOLOCK, AML_PRESERVE);
    aml_append(field, aml_named_field("IHDL",
        sizeof_field(NvdimmDsmInPage, handle) * BITS_PER_BYTE));
    aml_append(field, aml_named_field("IREV",
        sizeof_field(NvdimmDsmInPage, revision) * BITS_PER_BYTE));
    aml_append(field, aml_named_field("IFUN",
        sizeof_field(NvdimmDsmInPage, function) * BITS_PER_BYTE));
    aml_append(field, aml_named_field("IARG",
        sizeof_field(NvdimmDsmInPage, arg) * BITS_PER_BYTE));
    aml_append(dev, field);
    field = aml_field("DPAG", AML_DWORD_ACC, AML_NOLOCK, AML_PRESERVE);
    aml_append(field, aml_named_field("OLEN",
        sizeof_field(NvdimmDsmOutPage, len) * BITS_PER_BYTE));
    aml_append(field, aml_named_field("ODAT",
        sizeof_field(NvdimmDsmOutPage, data) * BITS_PER_BYTE));
    aml_append(dev, field);

    aml_append(dev, nvdimm_aml_subbuffer_method());
    aml_append(dev, nvdimm_aml_call_method());
    aml_append(dev, nvdimm_aml_status_method());
    aml_append(dev, nvdimm_aml_dsm_common_method());
    aml_append(dev, nvdimm_aml_read_fit_method());
    aml_append(dev, nvdimm_aml_lsi_method());
    aml_append(dev, nvdimm_aml_lsr_method());
    aml_append(dev, nvdimm_aml_lsw_method());
    aml_append(dev, nvdimm_aml_dsm_method("DSMC", NVDIMM_DSM_UUID_ROOT,
                                          NVDIMM_HANDLE_ROOT));
    aml_append(dev, nvdimm_aml_fit_method());
    if (health_events) {
        aml_append(dev, nvdimm_aml_health_events_method(ram_slots));
    }

    for (uint32_t slot = 0; slot < ram_slots; slot++) {
        aml_append(dev, nvdimm_aml_dimm_device(slot));
    }
    return dev;
}

/* Offset in @table_data of the DSM page address placeholder's value. */
static size_t nvdimm_ssdt_find_page_addr(GArray *table_data, size_t start)
{
    /* NameOp, the 4-character name, DWordPrefix: unique in the table */
    uint8_t pattern[1 + AML_NAME_SEG_LEN + 1];
    const uint8_t *base = (const uint8_t *)table_data->data;
    const uint8_t *hit;

    QEMU_BUILD_BUG_ON(sizeof(NVDIMM_PAGE_ADDR_NAME) != AML_NAME_SEG_LEN + 1);
    pattern[0] = AML_NAME_OP;
    memcpy(&pattern[1], NVDIMM_PAGE_ADDR_NAME, AML_NAME_SEG_LEN);
    pattern[1 + AML_NAME_SEG_LEN] = AML_DWORD_PREFIX;
    hit = memmem(base + start, table_data->len - start, pattern,
                 sizeof(pattern));
    g_assert(hit);
    g_assert(ldl_le_p(hit + sizeof(pattern)) == NVDIMM_PAGE_ADDR_PLACEHOLDER);
    return hit + sizeof(pattern) - base;
}

void nvdimm_ssdt_build(GArray *table_offsets, GArray *table_data,
                       BIOSLinker *linker,
                       const struct AcpiGenericAddress *dsm_io,
                       GArray *dsm_mem, uint32_t ram_slots,
                       bool health_events,
                       const char *oem_id, const char *oem_table_id)
{
    AcpiTable table = {
        .sig = "SSDT", .rev = NVDIMM_SSDT_REVISION,
        .oem_id = oem_id, .oem_table_id = NVDIMM_SSDT_TABLE_ID,
    };
    Aml *ssdt, *sb;
    size_t start, page_addr;

    acpi_add_table(table_offsets, table_data);
    start = table_data->len;
    acpi_table_begin(&table, table_data);

    ssdt = init_aml_allocator();
    sb = aml_scope("\\_SB");
    aml_append(sb, nvdimm_aml_root_device(dsm_io, ram_slots,
                                                health_events));
    aml_append(ssdt, sb);
    g_array_append_vals(table_data, ssdt->buf->data, ssdt->buf->len);
    free_aml_allocator();

    page_addr = nvdimm_ssdt_find_page_addr(table_data, start);
    /* the linker commands in the order firmware has always got them */
    bios_linker_loader_alloc(linker, NVDIMM_DSM_MEM_FILE, dsm_mem,
                             NVDIMM_DSM_PAGE_SIZE, false);
    bios_linker_loader_add_pointer(linker, ACPI_BUILD_TABLE_FILE, page_addr,
                                   sizeof(uint32_t), NVDIMM_DSM_MEM_FILE, 0);
    acpi_table_end(linker, &table);
}
