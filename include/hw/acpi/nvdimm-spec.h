/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NVDIMM wire formats: what the guest sees, and nothing else.
 *
 * Spec versions this file follows:
 *   ACPI 6.5, section 5.2.26 (NVDIMM Firmware Interface Table, NFIT) and
 *   section 9.19.7 (NVDIMM devices, _DSM/_FIT/_LSI/_LSR/_LSW);
 *   section 9.20.7 (NVDIMM root device _DSM: ARS, clear, error injection);
 *   Intel "NVDIMM DSM Interface", revision 1 (Get Label Size/Data, Set Label
 *   Data and the status codes) and revision 2 (SMART and health functions
 *   1, 2, 10, 17, 18, as Linux drivers/acpi/nfit/intel.h and ndctl v76
 *   ndctl/lib/intel.h lay them out);
 *   the QEMU DSM page and I/O port ABI, docs/specs/nvdimm-acpi.md.
 *
 * All multi-byte fields are little-endian in guest memory.  The structs here
 * only describe layouts; code converts to host order when it reads them.
 */
#ifndef HW_ACPI_NVDIMM_SPEC_H
#define HW_ACPI_NVDIMM_SPEC_H

#include "qemu/uuid.h"

/* ------------------------------------------------------------------------ */
/* NFIT (ACPI 6.5 section 5.2.26)                                            */

/* NFIT table revision (ACPI 6.5 Table 5.147). */
#define NFIT_TABLE_REVISION 1

/* Bytes between the common table header and the first NFIT structure. */
#define NFIT_HEADER_RESERVED_BYTES 4

/* NFIT structure types (ACPI 6.5 Table 5.148). */
typedef enum NfitStructType {
    NFIT_TYPE_SPA_RANGE = 0,
    NFIT_TYPE_MEMDEV_TO_SPA = 1,
    NFIT_TYPE_INTERLEAVE = 2,
    NFIT_TYPE_SMBIOS = 3,
    NFIT_TYPE_CONTROL_REGION = 4,
    NFIT_TYPE_BLOCK_DATA_WINDOW = 5,
    NFIT_TYPE_FLUSH_HINT = 6,
    NFIT_TYPE_PLATFORM_CAPS = 7,
} NfitStructType;

/* SPA Range Structure flags (ACPI 6.5 Table 5.149). */
enum {
    NFIT_SPA_FLAG_CONTROL_REGION_HOTPLUG = 1 << 0,
    NFIT_SPA_FLAG_PROXIMITY_VALID = 1 << 1,
    NFIT_SPA_FLAG_LOCATION_COOKIE_VALID = 1 << 2,
};

/*
 * Address Range Memory Mapping Attributes, as in the UEFI memory map
 * (ACPI 6.5 Table 5.149 refers to UEFI 2.10 Table 7.10).
 */
enum {
    NFIT_SPA_ATTR_UC = 1ULL << 0,
    NFIT_SPA_ATTR_WC = 1ULL << 1,
    NFIT_SPA_ATTR_WT = 1ULL << 2,
    NFIT_SPA_ATTR_WB = 1ULL << 3,
    NFIT_SPA_ATTR_UCE = 1ULL << 4,
    NFIT_SPA_ATTR_NV = 1ULL << 15,
};

/* Address Range Type GUID "Persistent Memory Region" (Table 5.149). */
#define NFIT_SPA_GUID_PM                                                    \
    UUID_LE(0x66f0d379, 0xb4f3, 0x4074, 0xac, 0x43, 0x0d, 0x33, 0x18, 0xb7, \
            0x8c, 0xdb)

/* Every NFIT structure starts with its type and length (Table 5.148). */
typedef struct QEMU_PACKED NfitSubHeader {
    uint16_t type;                      /* NfitStructType */
    uint16_t length;                    /* of the whole structure */
} NfitSubHeader;
QEMU_BUILD_BUG_ON(sizeof(NfitSubHeader) != 4);

/*
 * System Physical Address Range Structure (ACPI 6.5 Table 5.149), in its
 * 56-byte form without the SPA Location Cookie (valid flag clear), the form
 * NFIT revision 1 readers all accept.  Byte offsets in the comments.
 */
typedef struct QEMU_PACKED NfitSpaRange {
    NfitSubHeader hdr;                  /*  0 */
    uint16_t range_index;               /*  4: referenced by type 1 */
    uint16_t flags;                     /*  6: NFIT_SPA_FLAG_* */
    uint32_t rsvd8;                     /*  8 */
    uint32_t proximity_domain;          /* 12: as in SRAT */
    uint8_t type_guid[16];              /* 16: NFIT_SPA_GUID_* */
    uint64_t base;                      /* 32: system physical address */
    uint64_t size;                      /* 40 */
    uint64_t attributes;                /* 48: NFIT_SPA_ATTR_* */
} NfitSpaRange;
QEMU_BUILD_BUG_ON(sizeof(NfitSpaRange) != 56);

/* NVDIMM State Flags of the Memory Device to SPA Mapping (Table 5.150). */
enum {
    NFIT_MEMDEV_FLAG_SAVE_FAILED = 1 << 0,
    NFIT_MEMDEV_FLAG_RESTORE_FAILED = 1 << 1,
    NFIT_MEMDEV_FLAG_FLUSH_FAILED = 1 << 2,
    NFIT_MEMDEV_FLAG_NOT_ARMED = 1 << 3,
    NFIT_MEMDEV_FLAG_HEALTH_OBSERVED = 1 << 4,
    NFIT_MEMDEV_FLAG_HEALTH_ENABLED = 1 << 5,
    NFIT_MEMDEV_FLAG_MAP_FAILED = 1 << 6,
};

/* NVDIMM Region Mapping Structure (ACPI 6.5 Table 5.150). */
typedef struct QEMU_PACKED NfitMemdevToSpa {
    NfitSubHeader hdr;                  /*  0 */
    uint32_t device_handle;             /*  4: NFIT device handle */
    uint16_t physical_id;               /*  8: SMBIOS type 17 handle */
    uint16_t region_id;                 /* 10 */
    uint16_t range_index;               /* 12: its SPA Range */
    uint16_t control_region_index;      /* 14: its Control Region */
    uint64_t region_size;               /* 16 */
    uint64_t region_offset;             /* 24: within the SPA range */
    uint64_t dpa_base;                  /* 32: device physical address */
    uint16_t interleave_index;          /* 40: 0 = not interleaved */
    uint16_t interleave_ways;           /* 42 */
    uint16_t state_flags;               /* 44: NFIT_MEMDEV_FLAG_* */
    uint16_t rsvd46;                    /* 46 */
} NfitMemdevToSpa;
QEMU_BUILD_BUG_ON(sizeof(NfitMemdevToSpa) != 48);

/*
 * Region Format Interface Codes (ACPI 6.5 Table 5.155, JEDEC Annex L):
 * 0x0301 byte-addressable, no energy source (what QEMU has always
 * reported; the name is kept for that), and 0x0101 byte-addressable,
 * energy-backed: JEDEC NVDIMM-N (function class 1, interface 1), reported
 * with nvdimm-n=on.
 */
#define NFIT_DCR_FIC_BYTE_STANDARD 0x0301
#define NFIT_DCR_FIC_BYTE_ENERGY_BACKED 0x0101

/*
 * NVDIMM Control Region Structure (ACPI 6.5 Table 5.155) in its 80-byte
 * form; the block control window fields stay 0 (no BCW).
 */
typedef struct QEMU_PACKED NfitControlRegion {
    NfitSubHeader hdr;                  /*  0 */
    uint16_t region_index;              /*  4: referenced by type 1 */
    uint16_t vendor;                    /*  6: JEDEC ids, little-endian */
    uint16_t device;                    /*  8 */
    uint16_t revision;                  /* 10 */
    uint16_t subsystem_vendor;          /* 12 */
    uint16_t subsystem_device;          /* 14 */
    uint16_t subsystem_revision;        /* 16 */
    uint8_t valid_fields;               /* 18: bit 0: mfg location/date */
    uint8_t mfg_location;               /* 19 */
    uint16_t mfg_date;                  /* 20 */
    uint8_t rsvd22[2];                  /* 22 */
    uint32_t serial;                    /* 24 */
    uint16_t interface_code;            /* 28: NFIT_DCR_FIC_* */
    uint16_t bcw_count;                 /* 30 */
    uint64_t bcw_fields[5];             /* 32: size, cmd off/size, sts */
    uint16_t region_flags;              /* 72 */
    uint8_t rsvd74[6];                  /* 74 */
} NfitControlRegion;
QEMU_BUILD_BUG_ON(sizeof(NfitControlRegion) != 80);

/*
 * Flush Hint Address Structure (ACPI 6.5 section 5.2.26.8): @hint_count
 * addresses follow the 16-byte fixed part; a write of any value to one of
 * them flushes the DIMM's write buffers to its persistence domain.
 */
typedef struct QEMU_PACKED NfitFlushHint {
    NfitSubHeader hdr;                  /*  0: length 16 + 8 * hint_count */
    uint32_t device_handle;             /*  4: NFIT device handle */
    uint16_t hint_count;                /*  8 */
    uint8_t rsvd10[6];                  /* 10 */
    /* followed by uint64_t hint_address[hint_count] (system physical) */
} NfitFlushHint;
QEMU_BUILD_BUG_ON(sizeof(NfitFlushHint) != 16);

/* Platform Capabilities bits (ACPI 6.5 Table 5.159). */
enum {
    NFIT_CAP_CPU_CACHE_FLUSH = 1 << 0,
    NFIT_CAP_MEM_CTRL_FLUSH = 1 << 1,
    NFIT_CAP_MEM_MIRRORING = 1 << 2,
};
/* The highest capability bit we give a meaning to (bit index). */
#define NFIT_CAP_HIGHEST_VALID 1

/* Platform Capabilities Structure (ACPI 6.5 Table 5.159). */
typedef struct QEMU_PACKED NfitPlatformCaps {
    NfitSubHeader hdr;                  /*  0 */
    uint8_t highest_valid;              /*  4: bit index */
    uint8_t rsvd5[3];                   /*  5 */
    uint32_t capabilities;              /*  8: NFIT_CAP_* */
    uint32_t rsvd12;                    /* 12 */
} NfitPlatformCaps;
QEMU_BUILD_BUG_ON(sizeof(NfitPlatformCaps) != 16);

/*
 * NFIT Device Handle (ACPI 6.5 Table 5.151).  nvqemu numbers DIMMs flatly:
 * handle = slot + 1.  0 names the root device and 0x10000 (node controller
 * 1, otherwise unused) is reserved for the QEMU-specific root functions.
 */
#define NVDIMM_HANDLE_ROOT 0
#define NVDIMM_HANDLE_QEMU_ROOT 0x10000

/* ------------------------------------------------------------------------ */
/* _DSM (ACPI 6.5 section 9.1.1, 9.19.7; Intel NVDIMM DSM interface)        */

/* _DSM UUIDs, as ToUUID() strings for the AML. */
#define NVDIMM_DSM_UUID_ROOT "2F10E7A4-9E91-11E4-89D3-123B93F75CBA"
#define NVDIMM_DSM_UUID_INTEL "4309AC30-0D11-11E4-9191-0800200C9A66"
#define NVDIMM_DSM_UUID_QEMU "648B9CF2-CDA1-4312-8AD9-49C4AF32BD62"

/* The one _DSM revision implemented (Intel DSM interface, revision 1). */
#define NVDIMM_DSM_REVISION 1
/*
 * Revision 2 of the Intel interface: Linux calls functions 11-30 (so 17
 * and 18) with it and asks function 0 with it for them (nvdimm-n=on only).
 */
#define NVDIMM_DSM_REVISION_2 2

/* Function 0 is "query supported functions" for every UUID (ACPI 9.1.1). */
#define NVDIMM_DSM_FN_QUERY 0

/* Intel NVDIMM DSM functions that nvqemu implements. */
typedef enum NvdimmDsmDimmFn {
    NVDIMM_DSM_FN_SMART = 1,                /* SMART and health info */
    NVDIMM_DSM_FN_SMART_THRESHOLD = 2,      /* get SMART thresholds */
    NVDIMM_DSM_FN_GET_LABEL_SIZE = 4,
    NVDIMM_DSM_FN_GET_LABEL_DATA = 5,
    NVDIMM_DSM_FN_SET_LABEL_DATA = 6,
    NVDIMM_DSM_FN_LATCH_SHUTDOWN = 10,      /* enable latch shutdown status */
    NVDIMM_DSM_FN_SET_SMART_THRESHOLD = 17,
    NVDIMM_DSM_FN_INJECT_SMART = 18,
} NvdimmDsmDimmFn;

/* QEMU root functions (handle NVDIMM_HANDLE_QEMU_ROOT). */
typedef enum NvdimmDsmQemuFn {
    NVDIMM_DSM_FN_READ_FIT = 1,
    NVDIMM_DSM_FN_HEALTH_EVENTS = 2,    /* nvqemu: DIMMs with a health event */
} NvdimmDsmQemuFn;

/*
 * Status codes, bits 15:0 of the first output dword (Intel DSM interface,
 * "Status"); NVDIMM_DSM_STATUS_FIT_CHANGED is QEMU's Read FIT status.
 */
typedef enum NvdimmDsmStatus {
    NVDIMM_DSM_STATUS_SUCCESS = 0,
    NVDIMM_DSM_STATUS_UNSUPPORTED = 1,
    NVDIMM_DSM_STATUS_NO_DEVICE = 2,
    NVDIMM_DSM_STATUS_INVALID_INPUT = 3,
    NVDIMM_DSM_STATUS_HW_ERROR = 4,
    NVDIMM_DSM_STATUS_RETRY = 5,
    NVDIMM_DSM_STATUS_UNKNOWN = 6,
    NVDIMM_DSM_STATUS_FIT_CHANGED = 0x100,
} NvdimmDsmStatus;

/*
 * Notification values (ACPI 6.5 section 5.6.6, Device Object
 * Notifications): on the root device 0x80 is "NFIT Update" and 0x81
 * "Unconsumed Uncorrectable Memory Error Detected", on an NVDIMM device
 * 0x81 is "NVDIMM Health Event".
 */
#define NVDIMM_NOTIFY_FIT_UPDATE 0x80
#define NVDIMM_NOTIFY_UC_ERROR 0x81
#define NVDIMM_NOTIFY_HEALTH 0x81

/* ------------------------------------------------------------------------ */
/* The DSM page (docs/specs/nvdimm-acpi.md)                                  */

#define NVDIMM_DSM_PAGE_SIZE 4096

/* What the AML writes into the page before the I/O port write. */
typedef struct QEMU_PACKED NvdimmDsmInPage {
    uint32_t handle;
    uint32_t revision;
    uint32_t function;
    uint8_t arg[NVDIMM_DSM_PAGE_SIZE - 3 * sizeof(uint32_t)];
} NvdimmDsmInPage;
QEMU_BUILD_BUG_ON(sizeof(NvdimmDsmInPage) != NVDIMM_DSM_PAGE_SIZE);

/* What QEMU writes back; len counts itself and data[]. */
typedef struct QEMU_PACKED NvdimmDsmOutPage {
    uint32_t len;
    uint8_t data[NVDIMM_DSM_PAGE_SIZE - sizeof(uint32_t)];
} NvdimmDsmOutPage;
QEMU_BUILD_BUG_ON(sizeof(NvdimmDsmOutPage) != NVDIMM_DSM_PAGE_SIZE);

#define NVDIMM_DSM_ARG_MAX sizeof_field(NvdimmDsmInPage, arg)
#define NVDIMM_DSM_OUT_MAX sizeof_field(NvdimmDsmOutPage, data)

/* Output of functions that return only a status. */
typedef struct QEMU_PACKED NvdimmDsmStatusOut {
    uint32_t status;
} NvdimmDsmStatusOut;
QEMU_BUILD_BUG_ON(sizeof(NvdimmDsmStatusOut) != 4);

/* Function 0 output: the supported-functions bitmap (ACPI 9.1.1). */
typedef struct QEMU_PACKED NvdimmDsmQueryOut {
    uint32_t supported;
} NvdimmDsmQueryOut;
QEMU_BUILD_BUG_ON(sizeof(NvdimmDsmQueryOut) != 4);

/* Get Label Size output (Intel DSM function 4). */
typedef struct QEMU_PACKED NvdimmDsmLabelSizeOut {
    uint32_t status;
    uint32_t label_size;
    uint32_t max_xfer;
} NvdimmDsmLabelSizeOut;
QEMU_BUILD_BUG_ON(sizeof(NvdimmDsmLabelSizeOut) != 12);

/* Get/Set Label Data input header (Intel DSM functions 5 and 6). */
typedef struct QEMU_PACKED NvdimmDsmLabelIn {
    uint32_t offset;
    uint32_t length;
    /* function 6: followed by length bytes of label data */
} NvdimmDsmLabelIn;
QEMU_BUILD_BUG_ON(sizeof(NvdimmDsmLabelIn) != 8);

/* Get Label Data output header (Intel DSM function 5). */
typedef struct QEMU_PACKED NvdimmDsmLabelDataOut {
    uint32_t status;
    /* followed by the label data */
} NvdimmDsmLabelDataOut;
QEMU_BUILD_BUG_ON(sizeof(NvdimmDsmLabelDataOut) != 4);

/*
 * Health events output (QEMU root function 2, nvqemu): bit s of @slots is
 * set when the DIMM in slot s has a health event the guest was not told
 * about yet; @root has NVDIMM_EVENT_ROOT_* bits for the root device;
 * reading clears them all.
 */
#define NVDIMM_EVENT_SLOTS 256
typedef struct QEMU_PACKED NvdimmDsmHealthEventsOut {
    uint32_t status;
    uint8_t slots[NVDIMM_EVENT_SLOTS / 8];
    uint32_t root;
} NvdimmDsmHealthEventsOut;
QEMU_BUILD_BUG_ON(sizeof(NvdimmDsmHealthEventsOut) != 40);

/*
 * Root events: new poison the guest was not told about (Notify (NVDR, 0x81),
 * "Unconsumed Uncorrectable Memory Error Detected").
 */
#define NVDIMM_EVENT_ROOT_UC_ERROR (1u << 0)

/* Read FIT input (QEMU root function 1). */
typedef struct QEMU_PACKED NvdimmDsmReadFitIn {
    uint32_t offset;
} NvdimmDsmReadFitIn;
QEMU_BUILD_BUG_ON(sizeof(NvdimmDsmReadFitIn) != 4);

/* Read FIT output header (QEMU root function 1). */
typedef struct QEMU_PACKED NvdimmDsmReadFitOut {
    uint32_t status;
    /* followed by up to NVDIMM_DSM_FIT_CHUNK_MAX bytes of the FIT */
} NvdimmDsmReadFitOut;
QEMU_BUILD_BUG_ON(sizeof(NvdimmDsmReadFitOut) != 4);

/* Largest FIT chunk one Read FIT returns. */
#define NVDIMM_DSM_FIT_CHUNK_MAX \
    (NVDIMM_DSM_OUT_MAX - sizeof(NvdimmDsmReadFitOut))

/*
 * Largest label transfer: a Set Label Data payload must fit in the input
 * area after its header, and Get Label Data uses the same limit.
 */
#define NVDIMM_DSM_LABEL_MAX_XFER \
    (NVDIMM_DSM_ARG_MAX - sizeof(NvdimmDsmLabelIn))
QEMU_BUILD_BUG_ON(NVDIMM_DSM_LABEL_MAX_XFER + sizeof(NvdimmDsmLabelDataOut) >
                  NVDIMM_DSM_OUT_MAX);

/* ------------------------------------------------------------------------ */
/* Intel DSM SMART and health (functions 1, 2, 10, 17, 18; nvdimm-n=on)      */

/* SMART "flags": which output fields are valid (function 1). */
enum {
    NVDIMM_SMART_VALID_HEALTH = 1 << 0,
    NVDIMM_SMART_VALID_SPARES = 1 << 1,
    NVDIMM_SMART_VALID_USED = 1 << 2,
    NVDIMM_SMART_VALID_MEDIA_TEMP = 1 << 3,
    NVDIMM_SMART_VALID_CTRL_TEMP = 1 << 4,
    NVDIMM_SMART_VALID_SHUTDOWN_COUNT = 1 << 5,
    NVDIMM_SMART_VALID_AIT = 1 << 6,
    NVDIMM_SMART_VALID_PMIC_TEMP = 1 << 7,
    NVDIMM_SMART_VALID_ALARM = 1 << 9,
    NVDIMM_SMART_VALID_SHUTDOWN_STATE = 1 << 10,
    NVDIMM_SMART_VALID_VENDOR = 1 << 11,
};

/* Health status bits (function 1 "health"); 0 is "ok". */
enum {
    NVDIMM_SMART_HEALTH_NON_CRITICAL = 1 << 0,
    NVDIMM_SMART_HEALTH_CRITICAL = 1 << 1,
    NVDIMM_SMART_HEALTH_FATAL = 1 << 2,
};
#define NVDIMM_SMART_HEALTH_MASK                                 \
    (NVDIMM_SMART_HEALTH_NON_CRITICAL | NVDIMM_SMART_HEALTH_CRITICAL | \
     NVDIMM_SMART_HEALTH_FATAL)

/* Alarm bits: function 1 alarm_flags (tripped), 2/17 alarm_control. */
enum {
    NVDIMM_SMART_ALARM_SPARES = 1 << 0,
    NVDIMM_SMART_ALARM_MEDIA_TEMP = 1 << 1,
    NVDIMM_SMART_ALARM_CTRL_TEMP = 1 << 2,
};
#define NVDIMM_SMART_ALARM_MASK                                  \
    (NVDIMM_SMART_ALARM_SPARES | NVDIMM_SMART_ALARM_MEDIA_TEMP | \
     NVDIMM_SMART_ALARM_CTRL_TEMP)

/* Temperatures: bit 15 is the sign, bits 14:0 are |degrees C| * 16. */
#define NVDIMM_SMART_TEMP_SIGN 0x8000
#define NVDIMM_SMART_TEMP_MAGNITUDE 0x7fff
#define NVDIMM_SMART_TEMP_SCALE 16

/* Percent fields (spares, life used) range 0..100. */
#define NVDIMM_SMART_PERCENT_MAX 100

/* function 1 shutdown_state */
enum {
    NVDIMM_SMART_SHUTDOWN_CLEAN = 0,
    NVDIMM_SMART_SHUTDOWN_DIRTY = 1,
};

/* Function 1 output: SMART and health info, 132 bytes with the status. */
typedef struct QEMU_PACKED NvdimmDsmSmartOut {
    uint32_t status;                    /*   0 */
    uint32_t flags;                     /*   4: NVDIMM_SMART_VALID_* */
    uint8_t rsvd8[4];                   /*   8 */
    uint8_t health;                     /*  12: NVDIMM_SMART_HEALTH_* */
    uint8_t spares;                     /*  13: percent remaining */
    uint8_t life_used;                  /*  14: percent */
    uint8_t alarm_flags;                /*  15: NVDIMM_SMART_ALARM_* */
    uint16_t media_temperature;         /*  16: NVDIMM_SMART_TEMP_* */
    uint16_t ctrl_temperature;          /*  18 */
    uint32_t shutdown_count;            /*  20 */
    uint8_t ait_status;                 /*  24 */
    uint16_t pmic_temperature;          /*  25 */
    uint8_t rsvd27[8];                  /*  27 */
    uint8_t shutdown_state;             /*  35: NVDIMM_SMART_SHUTDOWN_* */
    uint32_t vendor_size;               /*  36 */
    uint8_t vendor_data[92];            /*  40 */
} NvdimmDsmSmartOut;
QEMU_BUILD_BUG_ON(sizeof(NvdimmDsmSmartOut) != 132);

/* The threshold fields, shared by functions 2 (output) and 17 (input). */
typedef struct QEMU_PACKED NvdimmDsmSmartThresh {
    uint16_t alarm_control;             /* 0: NVDIMM_SMART_ALARM_* enabled */
    uint8_t spares;                     /* 2: percent */
    uint16_t media_temperature;         /* 3: NVDIMM_SMART_TEMP_* */
    uint16_t ctrl_temperature;          /* 5 */
} NvdimmDsmSmartThresh;
QEMU_BUILD_BUG_ON(sizeof(NvdimmDsmSmartThresh) != 7);

/* Function 2 output: SMART thresholds, 12 bytes with the status. */
typedef struct QEMU_PACKED NvdimmDsmSmartThreshOut {
    uint32_t status;                    /*  0 */
    NvdimmDsmSmartThresh thresh;        /*  4 */
    uint8_t rsvd11;                     /* 11 */
} NvdimmDsmSmartThreshOut;
QEMU_BUILD_BUG_ON(sizeof(NvdimmDsmSmartThreshOut) != 12);

/* Function 17 input: set SMART thresholds (output: status only). */
typedef NvdimmDsmSmartThresh NvdimmDsmSetSmartThreshIn;

/* Function 18 input "flags": which injections the call touches. */
enum {
    NVDIMM_SMART_INJECT_MEDIA_TEMP = 1 << 0,
    NVDIMM_SMART_INJECT_SPARES = 1 << 1,
    NVDIMM_SMART_INJECT_FATAL = 1 << 2,
    NVDIMM_SMART_INJECT_UNSAFE_SHUTDOWN = 1 << 3,
};
#define NVDIMM_SMART_INJECT_MASK                                        \
    (NVDIMM_SMART_INJECT_MEDIA_TEMP | NVDIMM_SMART_INJECT_SPARES |      \
     NVDIMM_SMART_INJECT_FATAL | NVDIMM_SMART_INJECT_UNSAFE_SHUTDOWN)

/* Function 18 *_enable fields: 1 injects, 0 returns to the real value. */
enum {
    NVDIMM_SMART_INJECT_DISABLE = 0,
    NVDIMM_SMART_INJECT_ENABLE = 1,
};

/* Function 18 input: inject SMART (output: status only). */
typedef struct QEMU_PACKED NvdimmDsmInjectSmartIn {
    uint64_t flags;                     /*  0: NVDIMM_SMART_INJECT_* */
    uint8_t mtemp_enable;               /*  8 */
    uint16_t media_temperature;         /*  9 */
    uint8_t spare_enable;               /* 11 */
    uint8_t spares;                     /* 12 */
    uint8_t fatal_enable;               /* 13 */
    uint8_t unsafe_shutdown_enable;     /* 14 */
} NvdimmDsmInjectSmartIn;
QEMU_BUILD_BUG_ON(sizeof(NvdimmDsmInjectSmartIn) != 15);

/* Function 10 input: enable latch system shutdown status (0 or 1). */
typedef struct QEMU_PACKED NvdimmDsmLatchShutdownIn {
    uint8_t enable;
} NvdimmDsmLatchShutdownIn;
QEMU_BUILD_BUG_ON(sizeof(NvdimmDsmLatchShutdownIn) != 1);

enum {
    NVDIMM_LATCH_SHUTDOWN_DISABLE = 0,
    NVDIMM_LATCH_SHUTDOWN_ENABLE = 1,
};

/* Root device functions: ARS and error injection (ACPI 6.5 9.20.7)          */

/*
 * Functions of the root device's _DSM (handle NVDIMM_HANDLE_ROOT, UUID
 * NVDIMM_DSM_UUID_ROOT), ACPI 6.5 9.20.7.1.  Function 5
 * (Translate SPA) and 6 (reserved) are not implemented.
 */
typedef enum NvdimmDsmRootFn {
    NVDIMM_ROOT_FN_ARS_CAP = 1,
    NVDIMM_ROOT_FN_ARS_START = 2,
    NVDIMM_ROOT_FN_ARS_STATUS = 3,
    NVDIMM_ROOT_FN_CLEAR_ERROR = 4,
    NVDIMM_ROOT_FN_TRANSLATE_SPA = 5,
    NVDIMM_ROOT_FN_INJECT = 7,
    NVDIMM_ROOT_FN_INJECT_CLEAR = 8,
    NVDIMM_ROOT_FN_INJECT_STATUS = 9,
} NvdimmDsmRootFn;

/*
 * Root function status, bits 15:0 of the first output dword (ACPI 6.5
 * 9.20.7.2 ff.).  These differ from the Intel DIMM codes above: the root
 * has no "no device" code, so "invalid input" is 2 there.  Bits 31:16 are
 * the extended status, whose meaning depends on the function.
 */
typedef enum NvdimmArsStatus {
    NVDIMM_ARS_STATUS_SUCCESS = 0,
    NVDIMM_ARS_STATUS_UNSUPPORTED = 1,
    NVDIMM_ARS_STATUS_INVALID_INPUT = 2,
    NVDIMM_ARS_STATUS_HW_ERROR = 3,
    NVDIMM_ARS_STATUS_RETRY = 4,
    NVDIMM_ARS_STATUS_UNKNOWN = 5,
    NVDIMM_ARS_STATUS_FUNCTION_SPECIFIC = 6,
} NvdimmArsStatus;

#define NVDIMM_ARS_EXT_SHIFT 16

/* Query ARS Capabilities extended status: ARS types supported (9.20.7.2) */
enum {
    NVDIMM_ARS_CAP_EXT_VOLATILE = 1 << 0,
    NVDIMM_ARS_CAP_EXT_PERSISTENT = 1 << 1,
};

/* Start ARS extended status with NVDIMM_ARS_STATUS_FUNCTION_SPECIFIC. */
enum {
    NVDIMM_ARS_START_EXT_IN_PROGRESS = 1,
};

/* Query ARS Status extended status (9.20.7.4). */
enum {
    NVDIMM_ARS_STATUS_EXT_DONE = 0,
    NVDIMM_ARS_STATUS_EXT_IN_PROGRESS = 1,
    NVDIMM_ARS_STATUS_EXT_NONE = 2,     /* no ARS since the last boot */
    NVDIMM_ARS_STATUS_EXT_STOPPED = 3,
};

/* ARS types of Start ARS and Query ARS Status (9.20.7.3). */
enum {
    NVDIMM_ARS_TYPE_VOLATILE = 1 << 0,
    NVDIMM_ARS_TYPE_PERSISTENT = 1 << 1,
};

/* Start ARS flags (9.20.7.3). */
enum {
    NVDIMM_ARS_START_FLAG_NO_NOTIFY = 1 << 0,   /* ACPI 6.2: no 0x81 */
    NVDIMM_ARS_START_FLAG_PREV_DATA = 1 << 1,   /* return previous data */
};

/* Query ARS Status flags (9.20.7.4). */
enum {
    NVDIMM_ARS_STATUS_FLAG_OVERFLOW = 1 << 0,
};

/* ARS Error Inject options (9.20.7.7). */
enum {
    NVDIMM_ARS_INJECT_OPT_NOTIFY = 1 << 0,
};

/* Input of Query ARS Capabilities and of Clear Uncorrectable Error. */
typedef struct QEMU_PACKED NvdimmArsRangeIn {
    uint64_t address;                   /*  0: SPA */
    uint64_t length;                    /*  8 */
} NvdimmArsRangeIn;
QEMU_BUILD_BUG_ON(sizeof(NvdimmArsRangeIn) != 16);

/* Query ARS Capabilities output (ACPI 6.5 9.20.7.2). */
typedef struct QEMU_PACKED NvdimmArsCapOut {
    uint32_t status;                    /*  0: extended: NVDIMM_ARS_CAP_EXT_* */
    uint32_t max_status_out;            /*  4: Query ARS Status output size */
    uint32_t clear_unit;                /*  8: clear error unit, bytes */
    uint16_t flags;                     /* 12 */
    uint16_t rsvd14;                    /* 14 */
} NvdimmArsCapOut;
QEMU_BUILD_BUG_ON(sizeof(NvdimmArsCapOut) != 16);

/* Start ARS input (ACPI 6.5 9.20.7.3). */
typedef struct QEMU_PACKED NvdimmArsStartIn {
    uint64_t address;                   /*  0: SPA */
    uint64_t length;                    /*  8 */
    uint16_t type;                      /* 16: NVDIMM_ARS_TYPE_* */
    uint8_t flags;                      /* 18: NVDIMM_ARS_START_FLAG_* */
    uint8_t rsvd19[5];                  /* 19 */
} NvdimmArsStartIn;
QEMU_BUILD_BUG_ON(sizeof(NvdimmArsStartIn) != 24);

/* Start ARS output (ACPI 6.5 9.20.7.3). */
typedef struct QEMU_PACKED NvdimmArsStartOut {
    uint32_t status;                    /*  0 */
    uint32_t scrub_time;                /*  4: estimate, seconds */
} NvdimmArsStartOut;
QEMU_BUILD_BUG_ON(sizeof(NvdimmArsStartOut) != 8);

/* One ARS Error Record (ACPI 6.5 9.20.7.4). */
typedef struct QEMU_PACKED NvdimmArsRecord {
    uint32_t handle;                    /*  0: NFIT device handle */
    uint32_t rsvd4;                     /*  4 */
    uint64_t address;                   /*  8: SPA of the error */
    uint64_t length;                    /* 16 */
} NvdimmArsRecord;
QEMU_BUILD_BUG_ON(sizeof(NvdimmArsRecord) != 24);

/*
 * Query ARS Status output header (ACPI 6.5 9.20.7.4), followed by
 * num_records NvdimmArsRecord.  out_length counts from itself (offset 4):
 * the header after the status and the records.
 */
typedef struct QEMU_PACKED NvdimmArsStatusOut {
    uint32_t status;                    /*  0: extended: _STATUS_EXT_* */
    uint32_t out_length;                /*  4 */
    uint64_t address;                   /*  8: scrubbed range */
    uint64_t length;                    /* 16 */
    uint64_t restart_address;           /* 24: after an overflow */
    uint64_t restart_length;            /* 32 */
    uint16_t type;                      /* 40: NVDIMM_ARS_TYPE_* */
    uint16_t flags;                     /* 42: NVDIMM_ARS_STATUS_FLAG_* */
    uint32_t num_records;               /* 44 */
} NvdimmArsStatusOut;
QEMU_BUILD_BUG_ON(sizeof(NvdimmArsStatusOut) != 48);

/* Clear Uncorrectable Error output (ACPI 6.5 9.20.7.5). */
typedef struct QEMU_PACKED NvdimmArsClearOut {
    uint32_t status;                    /*  0 */
    uint32_t rsvd4;                     /*  4 */
    uint64_t cleared;                   /*  8: bytes cleared */
} NvdimmArsClearOut;
QEMU_BUILD_BUG_ON(sizeof(NvdimmArsClearOut) != 16);

/*
 * ARS Error Inject input (ACPI 6.5 9.20.7.7); Inject Clear (9.20.7.8)
 * takes the first 16 bytes.
 */
typedef struct QEMU_PACKED NvdimmArsInjectIn {
    uint64_t address;                   /*  0: SPA */
    uint64_t length;                    /*  8 */
    uint8_t options;                    /* 16: NVDIMM_ARS_INJECT_OPT_* */
} NvdimmArsInjectIn;
QEMU_BUILD_BUG_ON(sizeof(NvdimmArsInjectIn) != 17);

/* ARS Error Inject Status Query output header (ACPI 6.5 9.20.7.9). */
typedef struct QEMU_PACKED NvdimmArsInjectStatusOut {
    uint32_t status;                    /*  0 */
    uint32_t count;                     /*  4: records that follow */
} NvdimmArsInjectStatusOut;
QEMU_BUILD_BUG_ON(sizeof(NvdimmArsInjectStatusOut) != 8);

/* One Error Injection Status record (ACPI 6.5 9.20.7.9). */
typedef struct QEMU_PACKED NvdimmArsInjectRecord {
    uint64_t address;                   /*  0: SPA */
    uint64_t length;                    /*  8 */
} NvdimmArsInjectRecord;
QEMU_BUILD_BUG_ON(sizeof(NvdimmArsInjectRecord) != 16);

/* How many of each record one DSM reply carries. */
#define NVDIMM_ARS_MAX_RECORDS                                              \
    ((NVDIMM_DSM_OUT_MAX - sizeof(NvdimmArsStatusOut)) /                    \
     sizeof(NvdimmArsRecord))
#define NVDIMM_ARS_MAX_INJECT_RECORDS                                       \
    ((NVDIMM_DSM_OUT_MAX - sizeof(NvdimmArsInjectStatusOut)) /              \
     sizeof(NvdimmArsInjectRecord))

/* Minimum label storage area (UEFI 2.10 section 13.19 namespace labels). */
#define NVDIMM_LABEL_SIZE_MIN (128 * 1024)

#endif /* HW_ACPI_NVDIMM_SPEC_H */
