# Install rules for everything besides the binary, and the Debian package `cpack -G DEB` builds
# (scripts/package drives it). The binary's own rule is in daemon/CMakeLists.txt (bin/).
#
# The package installs under CPACK_PACKAGING_INSTALL_PREFIX=/usr: /usr/bin/profiled,
# /usr/lib/sysusers.d/profiled.conf, /usr/lib/tmpfiles.d/profiled.conf, /usr/share/doc/profiled/; and at absolute paths
# /lib/systemd/system/profiled.service and /etc/profiled/profiled.conf (a conffile).
# For a plain `cmake --install`, configure with -DCMAKE_INSTALL_PREFIX=/usr to get the same layout.

# cpack installs only the binary and data files: it must not build every test first.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)

set(profiled_systemd_dir ${PROJECT_SOURCE_DIR}/systemd)
install(FILES ${profiled_systemd_dir}/profiled.service DESTINATION /lib/systemd/system)
install(FILES ${profiled_systemd_dir}/profiled.conf DESTINATION /etc/profiled)
install(FILES ${profiled_systemd_dir}/profiled.sysusers DESTINATION lib/sysusers.d RENAME profiled.conf)
install(FILES ${profiled_systemd_dir}/profiled.tmpfiles DESTINATION lib/tmpfiles.d RENAME profiled.conf)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/profiled)
install(FILES ${profiled_systemd_dir}/deb/copyright DESTINATION share/doc/profiled)

# profiled(1) from the built binary's --help texts (systemd/man_page.py), and the Debian changelog, both gzipped
# as Debian wants them (-9, no name or time inside).
find_program(profiled_python3 python3 REQUIRED)
set(profiled_man_page ${CMAKE_BINARY_DIR}/man/profiled.1.gz)
set(profiled_changelog ${CMAKE_BINARY_DIR}/man/changelog.Debian.gz)
add_custom_command(
  OUTPUT ${profiled_man_page}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
  COMMAND ${profiled_python3} ${profiled_systemd_dir}/man_page.py $<TARGET_FILE:profiled> ${profiled_man_page}
  DEPENDS profiled ${profiled_systemd_dir}/man_page.py
  COMMENT "Writing profiled(1) from the help texts"
  VERBATIM)
add_custom_command(
  OUTPUT ${profiled_changelog}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
  COMMAND ${profiled_python3} -c
          "import gzip, sys; gzip.GzipFile(sys.argv[2], 'wb', 9, mtime=0).write(open(sys.argv[1], 'rb').read())"
          ${profiled_systemd_dir}/deb/changelog ${profiled_changelog}
  DEPENDS ${profiled_systemd_dir}/deb/changelog
  VERBATIM)
add_custom_target(profiled_package_docs ALL DEPENDS ${profiled_man_page} ${profiled_changelog})
install(FILES ${profiled_man_page} DESTINATION share/man/man1)
install(FILES ${profiled_changelog} DESTINATION share/doc/profiled)
install(FILES ${profiled_systemd_dir}/deb/lintian-overrides DESTINATION share/lintian/overrides RENAME profiled)
# Stripped as dh_strip does it: no symbols, and no .comment or .note sections (compiler versions lintian flags).
install(CODE "execute_process(COMMAND ${CMAKE_STRIP} --remove-section=.comment --remove-section=.note --strip-unneeded
                                      \$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/bin/profiled)")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME profiled)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "profiled maintainers <maintainers@profiled.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "self-hosted user-profile ingestion daemon")
# Lines under 80 characters (lintian: extended-description-line-too-long).
set(CPACK_PACKAGE_DESCRIPTION
    "profiled receives user and company profiles over HTTP, one at a time or
as bulk uploads, stores them durably in SQLite (or a PostgreSQL database
several daemons share) and serves them back. It runs as the systemd
service profiled.service, configured in /etc/profiled/profiled.conf.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
# Stripped by the install(CODE) above, which also drops the .comment section CPack's strip keeps.
set(CPACK_STRIP_FILES OFF)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# A Debian revision: the package is not native, its changelog is changelog.Debian.gz (systemd/deb/changelog).
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps derives Depends from the binary: libsqlite3-0, libfmt9, libboost-*1.81.0, libc6, ...
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# postinst applies the sysusers and tmpfiles files itself (useradd when systemd is absent); kill for
# ExecReload is in procps.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "procps")

# dpkg keeps an operator's edits of a conffile across upgrades; CPack does not mark /etc files by itself.
set(profiled_deb_control_dir ${CMAKE_BINARY_DIR}/deb-control)
file(WRITE ${profiled_deb_control_dir}/conffiles "/etc/profiled/profiled.conf\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${profiled_deb_control_dir}/conffiles
    ${PROJECT_SOURCE_DIR}/systemd/deb/postinst
    ${PROJECT_SOURCE_DIR}/systemd/deb/prerm
    ${PROJECT_SOURCE_DIR}/systemd/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

include(CPack)
