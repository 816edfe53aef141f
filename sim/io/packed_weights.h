// Reading back one tensor written by `lpusim quantize` (NAME.qweight, NAME.scales, NAME.offsets
// and the NAME.format / NAME.group_size / NAME.k metadata) as a QuantizedMatrix.
#pragma once

#include <string>

#include "kernels/quantizer.h"
#include "sim/io/safetensors.h"

namespace lpusim {

// Throws InputError naming the file and the tensor when a part is missing, has the wrong dtype
// or shape, or the metadata does not describe it.
QuantizedMatrix read_packed_tensor(const SafetensorsFile& file, const std::string& name);

}  // namespace lpusim
