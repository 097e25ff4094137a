// node-addon-api as every binding source includes it (addon.cpp, optim.cpp, mpi/mpi.cpp), with
// the same settings in each (its inline functions differ with them: one definition).
//
// A worker thread that is terminated (worker.terminate(), process.exit() in it or on the main
// thread) can be inside a call into the addon, or enter one before it stops: from then on every
// Node-API call that needs JavaScript (napi_unwrap of `this` in every instance method, reading
// an array element, napi_throw) fails with napi_pending_exception. node-addon-api turns the
// failure into a Napi::Error, catches it at the callback boundary and throws it into JavaScript;
// napi_throw fails too, and by default it then throws a C++ exception out of the (noexcept)
// callback: std::terminate, the whole process aborts ("terminate called after throwing an
// instance of 'Napi::Error'"). NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS makes it drop an error
// that no JavaScript can receive any more (node-addon-api #975, #1310): the call returns
// undefined into a JS that will never run again.
//
// NODE_ADDON_API_CPP_EXCEPTIONS_ALL: the callback boundary also catches every other C++
// exception (std::bad_alloc, std::system_error from starting a thread, ...) and throws it into
// JavaScript as an Error, instead of letting it end the process.
#pragma once
#if !defined(NAPI_CPP_EXCEPTIONS) && !defined(NODE_ADDON_API_CPP_EXCEPTIONS)
#error "the tapegrad bindings need C++ exceptions (NAPI_CPP_EXCEPTIONS): see binding.gyp"
#endif
#define NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS
#define NODE_ADDON_API_CPP_EXCEPTIONS_ALL
#include <napi.h>
