# Registry store sources, included by src/store/CMakeLists.txt into the alphalab_store target.
set(ALPHALAB_STORE_REGISTRY_SOURCES sqlite/sqlite_registry_store.cpp)
