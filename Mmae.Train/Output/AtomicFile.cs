using Mmae.Engine.IO;

namespace Mmae.Train.Output;

/// <summary>Writes a file through a temporary file in the same folder and a rename, so a reader
/// never sees a half-written file and a failed write leaves any old file in place.</summary>
internal static class AtomicFile
{
    /// <summary>Calls <paramref name="write"/> on a temporary file next to
    /// <paramref name="path"/>, then renames it over <paramref name="path"/>
    /// (see <see cref="AtomicWriter"/>).</summary>
    public static void Write(string path, Action<Stream> write) => AtomicWriter.Write(path, write);
}
