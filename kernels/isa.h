// The instruction set of the simulated chip, as one table of data (docs/ISA.md has the full
// semantics): per opcode its queue, its operands and its cost class.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace lpusim {

// The instruction queues of the chip; each runs in order, one instruction issued per cycle.
enum class Unit : std::uint8_t { kMem, kVxm, kMxm };
inline constexpr int kUnitCount = 3;

// What a queue's instructions occupy, which decides its cost model (models/compute_cost.h) and
// whether its busy time is a resource that can bound a step.
enum class UnitKind : std::uint8_t {
  kMemoryIssue,  // issues LOAD/STORE to the memory channel; the channel, not the queue, is busy
  kVector,       // the VXM: element-wise and reduction ALU work
  kMatrix,       // the MXM: MATMUL passes
};

// One row of the unit table: everything about a queue that the chip, the reports, the traces and
// the sweep columns need. Adding a queue adds a row here (and its cost model).
struct UnitInfo {
  Unit unit;
  std::string_view name;  // "mem": .lpuasm `.queue`, reports, VCD scope, trace track
  UnitKind kind;
  std::string_view sync_track;   // the trace track of its WAIT/NOTIFY and stalls: "mem sync"
  bool bounds_steps;             // its busy time can be what bounds a step (`bound`)
  std::string_view description;  // one line for docs and --describe
};

// The whole table, indexed by Unit, in queue order.
const std::array<UnitInfo, kUnitCount>& unit_table();
const UnitInfo& unit_info(Unit unit);
std::string_view unit_name(Unit unit);  // "mem", "vxm", "mxm"
std::optional<Unit> parse_unit(std::string_view name);

enum class Opcode : std::uint8_t {
  // dispatch (any queue)
  kNop,     // occupy the queue for `n` cycles (n >= 1)
  kNotify,  // sem += 1 once every earlier instruction of this queue has completed
  kWait,    // block until sem > 0, then sem -= 1; resumes the cycle after the notify lands
  kHalt,    // end of this queue (optional: the end of the list halts too)
  // MEM: off-chip region <-> SRAM buffer
  kLoad,
  kStore,
  // VXM element-wise (dst = a OP b, b may be an immediate)
  kAdd,
  kSub,
  kMul,
  kMad,  // kMad: dst = a * b + dst
  kMin,
  kMax,
  kAnd,
  kOr,
  kXor,
  kShl,
  kShr,
  kSar,
  kMov,
  kAbs,
  kNeg,
  kCvt,  // dst (type) = a (src_type), float -> int rounds half away, saturates
  kExp,
  kRsqrt,
  kRecip,  // transcendental: cost class kTranscendental
  kRsum,
  kRmax,  // reduce dim 1: dst[i] = sum/max_j a[i][j]
  // MXM
  kMatmul,  // int32 partial sums per k-group of int8 weights x int8 activations
};
inline constexpr int kOpcodeCount = static_cast<int>(Opcode::kMatmul) + 1;

// Element types of VXM operands and MXM modes.
enum class ElemType : std::uint8_t { kNone, kI8, kU8, kI16, kU16, kI32, kU32, kF16, kF32 };
std::string_view elem_type_name(ElemType type);  // "i8" ... "f32", "" for kNone
std::optional<ElemType> parse_elem_type(std::string_view name);
int elem_bytes(ElemType type);
bool is_float(ElemType type);

// How an instruction's occupancy is computed (docs/ISA.md "Cost").
enum class CostClass : std::uint8_t {
  kDispatch,        // 1 issue slot (NOP: n cycles)
  kTransfer,        // memory channel occupancy + latency
  kVectorAlu,       // 1 ALU op per element
  kTranscendental,  // kTranscendentalAluOps ALU ops per element
  kMatmul,          // MXM passes, weight install and pipeline fill
};
inline constexpr int kTranscendentalAluOps = 4;

// Which operands an opcode takes; drives the text reader/writer and validation.
enum OperandMask : std::uint32_t {
  kOpSem = 1u << 0,      // sem=NAME
  kOpDst = 1u << 1,      // dst=VIEW
  kOpA = 1u << 2,        // a=VIEW
  kOpB = 1u << 3,        // b=VIEW or imm=NUMBER (exactly one)
  kOpShape = 1u << 4,    // n=N or n=N0xN1
  kOpType = 1u << 5,     // .TYPE suffix on the mnemonic
  kOpSrcType = 1u << 6,  // second .TYPE suffix (CVT: CVT.f32.i32 = dst f32, src i32)
  kOpBytes = 1u << 7,    // bytes=N [rows=R stride=S]
  kOpMatmul = 1u << 8,   // dst=Y a=W b=X (views) m= k= n= [kgroup=]
  kOpCycles = 1u << 9,   // n=CYCLES for NOP
};

// Which element types an opcode accepts (checked by validate_program).
enum class TypeRule : std::uint8_t {
  kNone,     // no type suffix
  kNumeric,  // any element type
  kInteger,  // integer types only (bitwise ops and shifts)
  kFloat,    // f16 / f32 only (transcendentals)
  kConvert,  // two types, destination then source (CVT.f32.i32)
  kMatmul,   // i8 (int32 partials) or f16 (f32 partials)
};

struct OpcodeInfo {
  Opcode opcode;
  std::string_view mnemonic;  // upper case, as in .lpuasm
  std::optional<Unit> unit;   // nullopt: any queue (dispatch instructions)
  std::uint32_t operands;     // OperandMask bits
  CostClass cost;
  TypeRule types = TypeRule::kNone;
};

// The whole table, indexed by opcode.
const std::vector<OpcodeInfo>& opcode_table();
const OpcodeInfo& opcode_info(Opcode opcode);
std::optional<Opcode> parse_mnemonic(std::string_view mnemonic);  // "SHR", no type suffix
std::string_view mnemonic(Opcode opcode);
// True for the reductions RSUM / RMAX, whose dst is one element per row (1 x N0).
bool is_reduction(Opcode opcode);
// True for SHL / SHR / SAR, whose b operand is a shift count in 0 .. bits-1.
bool is_shift(Opcode opcode);
// The mnemonic closest to `text` by edit distance (for "did you mean"), or "" if none is close.
std::string_view closest_mnemonic(std::string_view text);

}  // namespace lpusim
