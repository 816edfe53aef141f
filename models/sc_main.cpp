// libsystemc.so defines main() and needs sc_main from the program; lpusim and its tests have
// their own main and drive SystemC through Simulation (sim/engine), so this entry point only
// satisfies the shared library's reference. CMakeLists.txt links this file into every program that
// links SystemC (not into a static library, whose member the linker may leave out). C linkage, as
// SystemC declares it.
extern "C" int sc_main(int /*argc*/, char** /*argv*/) { return 1; }
