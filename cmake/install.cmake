# Installation layout (cmake --install): the daemon and targetctl in sbin, the
# systemd unit, the man pages and an example /etc/targetd.conf that never
# replaces an existing one. Paths inside the unit follow the install prefix
# given at install time (the file in systemd/ is written for --prefix /usr).
include(GNUInstallDirs)

set(TARGETD_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
	"Where the systemd unit goes (relative to the prefix, or absolute)")

install(FILES ${CMAKE_SOURCE_DIR}/docs/targetd.8 ${CMAKE_SOURCE_DIR}/docs/targetctl.8
	DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${CMAKE_SOURCE_DIR}/docs/targetd.conf.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${CMAKE_SOURCE_DIR}/conf/targetd.conf DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# Evaluated at install time, so `cmake --install --prefix P` decides:
# prefix /usr -> /etc/targetd.conf (GNU coding standards' special case),
# anything else -> P/etc/targetd.conf.
install(CODE "
	set(_prefix \"\${CMAKE_INSTALL_PREFIX}\")
	if(_prefix STREQUAL \"/usr\")
		set(_etc /etc)
	else()
		set(_etc \"\${_prefix}/etc\")
	endif()
	set(_unitdir \"${TARGETD_SYSTEMD_UNIT_DIR}\")
	if(NOT IS_ABSOLUTE \"\${_unitdir}\")
		set(_unitdir \"\${_prefix}/\${_unitdir}\")
	endif()

	# systemd/targetd.service names /usr/sbin/{targetd,targetctl} and /etc/targetd.conf
	file(READ \"${CMAKE_SOURCE_DIR}/systemd/targetd.service\" _unit)
	string(REPLACE \"/usr/sbin/\" \"\${_prefix}/${CMAKE_INSTALL_SBINDIR}/\" _unit \"\${_unit}\")
	string(REPLACE \"/etc/targetd.conf\" \"\${_etc}/targetd.conf\" _unit \"\${_unit}\")
	file(WRITE \"${CMAKE_BINARY_DIR}/install-staging/targetd.service\" \"\${_unit}\")
	file(INSTALL \"${CMAKE_BINARY_DIR}/install-staging/targetd.service\"
		DESTINATION \"\${_unitdir}\"
		PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

	# the example configuration only if there is none: an administrator's
	# file is never overwritten (the example also stays under docdir)
	if(EXISTS \"\$ENV{DESTDIR}\${_etc}/targetd.conf\")
		message(STATUS \"Keeping existing: \$ENV{DESTDIR}\${_etc}/targetd.conf\")
	else()
		file(INSTALL \"${CMAKE_SOURCE_DIR}/conf/targetd.conf\" DESTINATION \"\${_etc}\"
			PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
	endif()
")
