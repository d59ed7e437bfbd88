// A loopback port on which nothing listens: a target that refuses connections at once.
#ifndef TESTS_TESTING_CLOSED_PORT_H_
#define TESTS_TESTING_CLOSED_PORT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace claude::testing {

// The port of a socket bound here and closed again: nothing listens on it unless another
// process binds it in the meantime, which the kernel's choice of ports makes unlikely.
inline int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace claude::testing

#endif  // TESTS_TESTING_CLOSED_PORT_H_
