# gRPC for the wheel build in the Debian 11 chroot (scripts/build-wheels): Debian 11's
# libgrpc++-dev (1.30) ships pkg-config files but no CMake package, so this file gives the two
# targets the project uses, from pkg-config and the packaged grpc_cpp_plugin. Not used elsewhere.
find_package(PkgConfig REQUIRED)
pkg_check_modules(_MOMENTO_GRPCPP REQUIRED IMPORTED_TARGET grpc++)
if(NOT TARGET gRPC::grpc++)
  add_library(gRPC::grpc++ INTERFACE IMPORTED)
  target_link_libraries(gRPC::grpc++ INTERFACE PkgConfig::_MOMENTO_GRPCPP)
endif()
find_program(_MOMENTO_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
if(NOT TARGET gRPC::grpc_cpp_plugin)
  add_executable(gRPC::grpc_cpp_plugin IMPORTED)
  set_target_properties(gRPC::grpc_cpp_plugin PROPERTIES IMPORTED_LOCATION "${_MOMENTO_GRPC_CPP_PLUGIN}")
endif()
set(gRPC_VERSION ${_MOMENTO_GRPCPP_VERSION})
set(gRPC_FOUND TRUE)
