# Sourced by the labs' scripts (eximlab.sh, postfixlab.sh).

# running PID - true while PID is a live process. A daemon a lab stopped is reparented to init,
# whose zombie (state Z) may wait seconds to be reaped: it has exited.
running() {
  local stat
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}
