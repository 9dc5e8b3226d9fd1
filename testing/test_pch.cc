// The source the tests' precompiled header is built with (CMakeLists.txt, SW_PCH); it has no
// code of its own.
