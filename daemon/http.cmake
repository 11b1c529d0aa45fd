# streamrec_http: the HTTP side of the daemon (router, Beast server,
# dashboard). Included from daemon/CMakeLists.txt. Boost.Asio/Beast are header-only in 1.74
# (Boost.System too), so Boost::headers and Threads are all it links.
streamrec_library(streamrec_http
  SRCS
    ${CMAKE_CURRENT_LIST_DIR}/dashboard.cc
    ${CMAKE_CURRENT_LIST_DIR}/http_message.cc
    ${CMAKE_CURRENT_LIST_DIR}/http_router.cc
    ${CMAKE_CURRENT_LIST_DIR}/http_server.cc
  DEPS streamrec_common Boost::headers Threads::Threads)
if(STREAMREC_SANITIZE STREQUAL "thread")
  # Asio's std_fenced_block uses std::atomic_thread_fence, which GCC flags under TSan
  # (-Wtsan). Asio hands completions between threads through mutex-protected queues, so TSan
  # still sees the happens-before edges; PUBLIC because tests and benches include Beast too.
  target_compile_options(streamrec_http PUBLIC -Wno-tsan)
endif()
